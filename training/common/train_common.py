"""What the image and audio training scripts share: seeding, the optimiser with its faster group
for the log-space entropy parameters, and the learning-rate schedule."""
import math
import random

import numpy as np
import torch


def seed_everything(seed, threads):
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(threads)


def make_optimizer(model, lr):
    """Adam; gains and rate-model scales live in log space and must move far: a 10x learning rate."""
    entropy = set(id(p) for p in model.entropy_parameters())
    return torch.optim.Adam(
        [
            {"params": [p for p in model.parameters() if id(p) not in entropy], "lr": lr, "base": lr},
            {"params": model.entropy_parameters(), "lr": lr * 10, "base": lr * 10},
        ]
    )


def apply_schedule(opt, frac, decay_from=0.7):
    """Constant learning rate, then a cosine decay to 5 % over the rest of the time budget.
    Returns the multiplier applied."""
    decay = 1.0 if frac < decay_from else 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * (frac - decay_from) / (1 - decay_from)))
    for g in opt.param_groups:
        g["lr"] = g["base"] * decay
    return decay
