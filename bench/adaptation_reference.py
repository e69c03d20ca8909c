"""How many of a new subject's trials does the re-centring reference need? (eegmmidb S001-S010)

Leave one subject out, pooled TS+LR on 21 motor channels (as ``bci.evaluation.adaptation``);
the held-out subject is re-centred by (a) the mean of its whole recording's windows, (b) the
mean of all its trials, (c) the mean of its first 4 trials only. Sources are re-centred the
same way as the target in (a) and by their trial means in (b), (c). No labels of the target.

    BCI_DATA_PATH=../shared/data python bench/adaptation_reference.py
"""

from __future__ import annotations

import numpy as np
from pyriemann.tangentspace import TangentSpace
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from bci.decoders.recentering import Recentering
from bci.evaluation.adaptation import _whiten, load_subject


def main() -> None:
    threadpool_limits(1)
    subs = list(range(1, 11))
    data = {s: load_subject(s) for s in subs}

    def trial_ref(s: int, k: int | None = None) -> np.ndarray:
        return np.asarray(Recentering().fit(data[s].trial_covs[:k]).reference_)

    res: dict[str, list[float]] = {"windows": [], "trials": [], "first 4 trials": []}
    for t in subs:
        d = data[t]
        for mode in ("windows", "trials"):
            X = np.concatenate(
                [
                    _whiten(
                        data[s].trial_covs, data[s].reference if mode == "windows" else trial_ref(s)
                    )
                    for s in subs
                    if s != t
                ]
            )
            y = np.concatenate([data[s].y for s in subs if s != t])
            m = Pipeline([("ts", TangentSpace()), ("clf", LogisticRegression())]).fit(X, y)
            refs = (
                {"windows": d.reference}
                if mode == "windows"
                else {"trials": trial_ref(t), "first 4 trials": trial_ref(t, 4)}
            )
            for name, R in refs.items():
                p = m.predict_proba(_whiten(d.trial_covs, R))[:, 1]
                res[name].append(float(roc_auc_score(d.y == "right", p)))
    for name, v in res.items():
        print(f"{name:15} {np.mean(v):.3f} ± {np.std(v):.3f}  " + " ".join(f"{x:.2f}" for x in v))


if __name__ == "__main__":
    main()
