from divergence.cli import main

main()
