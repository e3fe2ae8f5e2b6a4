"""Every threshold the analyzer uses, in one place. docs/verdicts.md explains each.

Most are multiples of a noise level the run itself shows (sd of batch losses,
standard error of a validation loss), so they scale with the run; the few
absolute numbers are floors under those, so that a noiseless log is not judged
on rounding.
"""

Z = 3.0  # a difference counts when it is more than Z standard errors
MIN_BAND = 0.002  # nats: the smallest noise band, for logs with (almost) no noise
NEAR_FLOOR_REL = 0.01  # "at the floor": within 1% of the floor (or within noise, if larger)
MEMORISE_REL = 0.01  # training below an exact floor by more than 1% of it is material memorisation
UNIFORM_LOCK_NATS = 1e-3  # a loss within this of ln V (or ln of a padded V) ...
UNIFORM_LOCK_SD = 5e-3  # ... with batch-to-batch sd below this is a uniform output
PADDED_MULTIPLES = (8, 64, 128, 256)  # vocabularies are often padded up to a multiple of these
TAIL_FRACTION = 0.25  # the "end of the run" is its last quarter of batches ...
MIN_TAIL = 20  # ... but at least this many batches
SPIKE_Z = 8.0  # a batch above its running median by more than SPIKE_Z batch sds ...
SPIKE_MIN_NATS = 0.05  # ... and by at least this many nats is a spike
SPIKE_WINDOW = 21  # batches in the running median
DIVERGE_MIN_NATS = 0.1  # the end of the run above its best level by this (and by Z standard errors) is divergence
INIT_FIRST_STEP_MAX = 1  # the first logged batch must be at step <= this to count as "at initialisation"
MIN_BATCHES = 10  # fewer batches (and fewer than 2 evaluations) is too little to judge
