from divergence.interfaces.cli import main

main()
