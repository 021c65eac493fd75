"""Checks that the configured encoder is sane: translations are each other's nearest neighbours."""

from __future__ import annotations

import numpy as np

from divergence.config import Settings
from divergence.encoder import Encoder

PROBES = [
    ("The two presidents spoke by telephone on Tuesday.", "Les deux présidents se sont entretenus par téléphone mardi.", "Два президента провели телефонный разговор во вторник."),
    ("The ministers agreed to reopen the embassies.", "Les ministres ont convenu de rouvrir les ambassades.", "Министры договорились вновь открыть посольства."),
    ("Heavy snow closed the airport for a day.", "De fortes chutes de neige ont fermé l'aéroport pendant une journée.", "Сильный снегопад закрыл аэропорт на сутки."),
]


def verify_encoder(settings: Settings) -> list[str]:
    encoder = Encoder(settings)
    flat = [s for group in PROBES for s in group]
    vectors = encoder.encode_uncached(flat)
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -1)
    hits = sum(int(np.argmax(sims[i]) // 3 == i // 3) for i in range(len(flat)))
    status = "ok" if hits == len(flat) else "WARNING: translations are not nearest neighbours"
    return [f"dimension {encoder.dimension}", f"running   {encoder.backend}", f"check     {hits}/{len(flat)} translations retrieved ({status})"]
