"""Keep labels readable in council diagrams: a layout pass over the shared builder's.

The shared builder (processes/authoring/bpmn_builder.py) places each label on its own; where a
task carries three boundary events, or several labelled flows leave a gateway the same way, the
labels land on top of each other. `use()` swaps in a layout that runs the builder's and then
moves a label that overlaps one already placed: boundary labels stack under their neighbours,
flow labels slide along until they are clear. Only this script's run is affected.
"""

from __future__ import annotations

from processes.authoring import bpmn_builder as bb


def _overlap(a: bb.Box, b: bb.Box, pad: float = 1) -> bool:
    across = a.x < b.right + pad and b.x < a.right + pad
    return across and a.y < b.bottom + pad and b.y < a.bottom + pad


class _TidyLayout(bb._Layout):
    def run(self):  # type: ignore[override]
        boxes, edges, info = super().run()
        placed: list[bb.Box] = []
        labels: dict[str, bb.Box] = info["labels"]
        # boundary labels first: on a task (not a subprocess) with three or more, stack the
        # left-hand ones
        for host, bids in self.boundaries.items():
            if len(bids) < 3 or self.nodes[host].kind == "subProcess":
                continue
            left = [b for i, b in enumerate(bids) if i < len(bids) / 2]
            edge = boxes[left[0]].cx - 4
            y = boxes[left[0]].bottom + 2
            for b in left:
                if b in labels:
                    box = labels[b]
                    labels[b] = bb.Box(edge - box.w, y, box.w, box.h)
                    y += box.h
        for store in (labels, info["edge_labels"]):
            for lid, box in store.items():
                tries = 0
                while tries < 12 and any(_overlap(box, other) for other in placed):
                    box = bb.Box(box.x, box.y + 13, box.w, box.h)
                    tries += 1
                store[lid] = box
                placed.append(box)
        return boxes, edges, info


def use() -> None:
    bb._Layout = _TidyLayout  # type: ignore[misc]
