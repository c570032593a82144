"""Members from faces: nearest enrolled member by cosine (threshold + margin), then votes per segment.

The gallery is every ``member_faces`` row of one face model; adding a member needs no retraining.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from db.members import gallery_faces


def as_array(value) -> np.ndarray:
    """A pgvector value (Vector or array) as a float32 numpy array."""
    if hasattr(value, "to_numpy"):
        value = value.to_numpy()
    return np.asarray(value, dtype=np.float32)


@dataclass
class Match:
    member_id: int | None
    similarity: float  # best cosine over the gallery (to the matched member, or the best if unmatched)


class Gallery:
    def __init__(self, member_ids: list[int], embeddings: np.ndarray, threshold: float, margin: float):
        self.member_ids = np.asarray(member_ids, dtype=np.int64)
        e = np.asarray(embeddings, dtype=np.float32).reshape(len(member_ids), -1) if member_ids else np.zeros((0, 0))
        norms = np.linalg.norm(e, axis=1, keepdims=True) if len(e) else None
        self.embeddings = e / np.where(norms == 0, 1, norms) if len(e) else e
        self.members = sorted(set(member_ids))
        self.threshold = threshold
        self.margin = margin

    @classmethod
    def load(cls, conn, model: str, threshold: float, margin: float) -> "Gallery":
        rows = gallery_faces(conn, model)
        embeddings = np.stack([as_array(r["embedding"]) for r in rows]) if rows else np.zeros((0, 0))
        return cls([r["member_id"] for r in rows], embeddings, threshold, margin)

    def __len__(self) -> int:
        return len(self.member_ids)

    def match(self, embedding: np.ndarray) -> Match:
        if not len(self.member_ids):
            return Match(None, 0.0)
        v = np.asarray(embedding, dtype=np.float32)
        if v.shape[0] != self.embeddings.shape[1]:
            return Match(None, 0.0)
        v = v / (np.linalg.norm(v) or 1.0)
        sims = self.embeddings @ v
        per_member = {m: float(sims[self.member_ids == m].max()) for m in self.members}
        ranked = sorted(per_member.items(), key=lambda kv: kv[1], reverse=True)
        best_id, best = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else -1.0
        if best >= self.threshold and best - second >= self.margin:
            return Match(best_id, best)
        return Match(None, best)


def vote(matches: list[Match], min_votes: int = 1) -> dict[int, float]:
    """Members of a segment from its faces' matches: member -> confidence (mean similarity of its matches)."""
    sims: dict[int, list[float]] = {}
    for m in matches:
        if m.member_id is not None:
            sims.setdefault(m.member_id, []).append(m.similarity)
    return {mid: float(np.mean(s)) for mid, s in sims.items() if len(s) >= min_votes}
