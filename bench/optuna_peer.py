#!/usr/bin/env python3
"""Optuna 3.1 peer for bench/tune-samplers.ts (Debian's python3-optuna; not CI).

The problems are written exactly as in bench/tune-problems.ts.
  optuna_peer.py check            reads {"problem": [params, ...]} JSON on stdin, prints the values
  optuna_peer.py run P S N SEEDS  P problem, S tpe|tpe-multivariate|nsga2|random, N trials, SEEDS e.g. 0-9;
                                  prints one JSON line per seed: best value or front, sampler seconds
"""
import json
import math
import sys
import time

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def branin(p):
    x1, x2 = p["x1"], p["x2"]
    b = 5.1 / (4 * math.pi**2)
    c = 5 / math.pi
    t = 1 / (8 * math.pi)
    return [(x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10]


H_ALPHA = [1.0, 1.2, 3.0, 3.2]
H_A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
H_P = [
    [1312, 1696, 5569, 124, 8283, 5886],
    [2329, 4135, 8307, 3736, 1004, 9991],
    [2348, 1451, 3522, 2883, 3047, 6650],
    [4047, 8828, 8732, 5743, 1091, 381],
]


def hartmann6(p):
    y = 0.0
    for i in range(4):
        inner = 0.0
        for j in range(6):
            inner += H_A[i][j] * (p[f"x{j}"] - H_P[i][j] * 1e-4) ** 2
        y -= H_ALPHA[i] * math.exp(-inner)
    return [y]


ACTIVATION_COST = {"relu": 0.5, "gelu": 0, "tanh": 1, "sigmoid": 2}


def mixed6(p):
    return [
        (math.log10(p["lr"]) + 3) ** 2
        + (p["layers"] - 4) ** 2 / 4
        + (math.log2(p["batch"]) - 6) ** 2 / 4
        + 10 * (p["dropout"] - 0.2) ** 2
        + ACTIVATION_COST[p["activation"]]
        + ((p["width"] - 256) / 128) ** 2
    ]


def zdt(shape):
    def f(p):
        d = 30
        x = [p[f"x{i}"] for i in range(d)]
        s = 0.0
        for i in range(1, d):
            s += x[i]
        g = 1 + 9 * s / (d - 1)
        return [x[0], g * shape(x[0], g)]

    return f


zdt1 = zdt(lambda f1, g: 1 - math.sqrt(f1 / g))
zdt2 = zdt(lambda f1, g: 1 - (f1 / g) ** 2)

def cond6(p):
    common = (p["layers"] - 3) ** 2 / 4 + 10 * (p["dropout"] - 0.1) ** 2
    if p["optimizer"] == "sgd":
        return [common + (math.log10(p["sgd_lr"]) + 1.5) ** 2 + 4 * (p["momentum"] - 0.9) ** 2]
    return [common + 0.2 + (math.log10(p["adam_lr"]) + 3.5) ** 2 / 2 + 10 * (p["beta1"] - 0.9) ** 2]


def rosenbrock2(p):
    return [100 * (p["x1"] - p["x0"] ** 2) ** 2 + (1 - p["x0"]) ** 2]


def styblinski5(p):
    y = 0.0
    for i in range(5):
        x = p[f"x{i}"]
        y += (x**4 - 16 * x**2 + 5 * x) / 2
    return [y]


PROBLEMS = {"branin": branin, "hartmann6": hartmann6, "mixed6": mixed6, "cond6": cond6, "rosenbrock2": rosenbrock2, "styblinski5": styblinski5, "zdt1": zdt1, "zdt2": zdt2}


def suggest(trial, problem):
    if problem == "branin":
        return {"x1": trial.suggest_float("x1", -5, 10), "x2": trial.suggest_float("x2", 0, 15)}
    if problem == "hartmann6":
        return {f"x{i}": trial.suggest_float(f"x{i}", 0, 1) for i in range(6)}
    if problem == "mixed6":
        return {
            "layers": trial.suggest_int("layers", 1, 8),
            "lr": trial.suggest_float("lr", 1e-5, 1e-1, log=True),
            "batch": trial.suggest_int("batch", 16, 512, log=True),
            "dropout": trial.suggest_float("dropout", 0, 0.5, step=0.05),
            "activation": trial.suggest_categorical("activation", ["relu", "gelu", "tanh", "sigmoid"]),
            "width": trial.suggest_int("width", 32, 512, step=32),
        }
    if problem == "rosenbrock2":
        return {"x0": trial.suggest_float("x0", -5, 10), "x1": trial.suggest_float("x1", -5, 10)}
    if problem == "styblinski5":
        return {f"x{i}": trial.suggest_float(f"x{i}", -5, 5) for i in range(5)}
    if problem == "cond6":
        p = {"optimizer": trial.suggest_categorical("optimizer", ["sgd", "adam"])}
        if p["optimizer"] == "sgd":
            p["sgd_lr"] = trial.suggest_float("sgd_lr", 1e-4, 1, log=True)
            p["momentum"] = trial.suggest_float("momentum", 0, 0.99)
        else:
            p["adam_lr"] = trial.suggest_float("adam_lr", 1e-5, 1e-1, log=True)
            p["beta1"] = trial.suggest_float("beta1", 0.5, 0.999)
        p["layers"] = trial.suggest_int("layers", 1, 8)
        p["dropout"] = trial.suggest_float("dropout", 0, 0.5)
        return p
    return {f"x{i}": trial.suggest_float(f"x{i}", 0, 1) for i in range(30)}


def timed_sampler(sampler):
    """Wraps the sampler's methods so the time spent inside them is summed."""
    spent = [0.0]
    for name in ["infer_relative_search_space", "sample_relative", "sample_independent", "before_trial", "after_trial"]:
        if not hasattr(sampler, name):
            continue
        orig = getattr(sampler, name)

        def wrapper(*args, _orig=orig, **kwargs):
            t0 = time.perf_counter()
            try:
                return _orig(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - t0

        setattr(sampler, name, wrapper)
    return spent


def run(problem, sampler_name, n_trials, seed):
    f = PROBLEMS[problem]
    multi = problem.startswith("zdt")
    if sampler_name == "tpe":
        sampler = optuna.samplers.TPESampler(seed=seed)
    elif sampler_name == "tpe-multivariate":
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True)
    elif sampler_name == "nsga2":
        sampler = optuna.samplers.NSGAIISampler(seed=seed)
    else:
        sampler = optuna.samplers.RandomSampler(seed=seed)
    spent = timed_sampler(sampler)
    study = optuna.create_study(directions=["minimize", "minimize"] if multi else ["minimize"], sampler=sampler)
    t0 = time.perf_counter()
    values = []
    for _ in range(n_trials):
        trial = study.ask()
        v = f(suggest(trial, problem))
        study.tell(trial, v if multi else v[0])
        values.append(v)
    wall = time.perf_counter() - t0
    out = {"problem": problem, "sampler": sampler_name, "seed": seed, "samplerSeconds": spent[0], "wallSeconds": wall}
    if multi:
        out["values"] = values
    else:
        out["best"] = min(v[0] for v in values)
    return out


def main():
    if sys.argv[1] == "check":
        req = json.load(sys.stdin)
        print(json.dumps({p: [PROBLEMS[p](x) for x in xs] for p, xs in req.items()}))
        return
    _, _, problem, sampler_name, n_trials, seeds = sys.argv
    lo, _, hi = seeds.partition("-")
    for seed in range(int(lo), int(hi or lo) + 1):
        print(json.dumps(run(problem, sampler_name, int(n_trials), seed)), flush=True)


if __name__ == "__main__":
    main()
