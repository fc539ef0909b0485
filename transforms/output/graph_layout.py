"""Positions for the report's graph view, computed once in Python so the page opens fast
and looks the same every time: a force-directed layout per component (Fruchterman-Reingold
in numpy, deterministic start), components packed in rows, largest first."""

from __future__ import annotations

import math
from typing import Dict, List, Sequence, Tuple

import numpy as np

from transforms.signatures import hash64

Position = Tuple[float, float]
_GAP = 30.0  # between packed components
_SPACING = 70.0  # ideal edge length


def _force_layout(members: Sequence[str], edges: Sequence[Tuple[str, str]], iterations: int = 80) -> np.ndarray:
    n = len(members)
    if n == 1:
        return np.zeros((1, 2))
    index = {m: i for i, m in enumerate(members)}
    angles = np.array([(hash64(m) % 3600) / 3600 * 2 * math.pi for m in members])
    radius = _SPACING * math.sqrt(n)
    pos = np.stack([np.cos(angles), np.sin(angles)], axis=1) * radius * np.linspace(0.3, 1.0, n)[:, None]
    links = np.array([(index[a], index[b]) for a, b in edges if a in index and b in index], dtype=int).reshape(-1, 2)
    k = _SPACING
    temperature = radius / 4
    for _ in range(iterations):
        delta = pos[:, None, :] - pos[None, :, :]
        dist = np.maximum(np.linalg.norm(delta, axis=2), 0.01)
        push = (k * k / dist ** 2)[:, :, None] * delta
        move = push.sum(axis=1)
        if len(links):
            d = pos[links[:, 0]] - pos[links[:, 1]]
            length = np.maximum(np.linalg.norm(d, axis=1), 0.01)
            pull = (length / k)[:, None] * d
            np.add.at(move, links[:, 0], -pull)
            np.add.at(move, links[:, 1], pull)
        move -= pos * 0.02  # gentle gravity keeps loose parts near the centre
        size = np.maximum(np.linalg.norm(move, axis=1), 0.01)
        pos += move / size[:, None] * np.minimum(size, temperature)[:, None]
        temperature *= 0.95
    return pos - pos.mean(axis=0)


def _grid(n: int) -> np.ndarray:
    side = max(1, math.ceil(math.sqrt(n)))
    return np.array([((i % side) * _SPACING * 0.6, (i // side) * _SPACING * 0.6) for i in range(n)], dtype=float)


def layout(groups: Sequence[Sequence[str]], edges: Sequence[Tuple[str, str]],
           loose: Sequence[str] = ()) -> Dict[str, Position]:
    """Positions for components (`groups`, largest first) and files without edges (`loose`, in a grid)."""
    blocks: List[Tuple[Sequence[str], np.ndarray]] = [(g, _force_layout(g, edges)) for g in groups]
    if loose:
        blocks.append((loose, _grid(len(loose))))
    total_area = sum((np.ptp(p[:, 0]) + _GAP) * (np.ptp(p[:, 1]) + _GAP) for _, p in blocks) or 1.0
    row_width = max(math.sqrt(total_area) * 1.3, max((np.ptp(p[:, 0]) + _GAP for _, p in blocks), default=1))
    positions: Dict[str, Position] = {}
    x = y = row_height = 0.0
    for members, pos in blocks:
        width, height = np.ptp(pos[:, 0]) + _GAP, np.ptp(pos[:, 1]) + _GAP
        if x > 0 and x + width > row_width:
            x, y, row_height = 0.0, y + row_height, 0.0
        shifted = pos - pos.min(axis=0) + np.array([x + _GAP / 2, y + _GAP / 2])
        for member, (px, py) in zip(members, shifted):
            positions[member] = (round(float(px), 1), round(float(py), 1))
        x += width
        row_height = max(row_height, height)
    return positions


def components_within(components: Sequence[Sequence[str]], loose: Sequence[str],
                      max_nodes: int) -> Tuple[List[Sequence[str]], List[str]]:
    """The largest components, then loose files, up to `max_nodes` files in all."""
    shown: List[Sequence[str]] = []
    budget = max_nodes
    for members in components:
        if len(members) <= budget:
            shown.append(members)
            budget -= len(members)
    return shown, list(loose[:budget])
