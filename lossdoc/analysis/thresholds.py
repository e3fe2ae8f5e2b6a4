"""Every threshold the analyzer uses, in one place. docs/verdicts.md explains each.

Most are multiples of a noise level the run itself shows (sd of batch losses,
standard error of a validation loss), so they scale with the run; the few
absolute numbers are floors under those, so that a noiseless log is not judged
on rounding.
"""

Z = 3.0  # a difference counts when it is more than Z standard errors (as a t quantile when its noise is measured on few points)
Z_TREND = 2.0  # ... except "still falling" against "settled": both healthy, so a fall at 2 standard errors (one-sided 97.7%) decides
MIN_BAND = 0.002  # nats: the smallest noise band, for logs with (almost) no noise ...
TINY_SCALE = 0.02  # ... unless every logged loss is below this (ten such bands): a loss on another scale (a regression's MSE) ...
MIN_BAND_REL = 0.001  # ... whose smallest band is this share of its median level (Context.min_band)
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
MIN_EFFECT_REL = 0.01  # a change must also be material: at least 1% of the level it is measured from
EARLY_STEPS = 50  # a fresh model within its initial band that has not moved after fewer steps than this is early, not stuck
MIN_BATCHES = 10
FEW_RECORDS_MIN = 5  # from this many records (and fewer than MIN_BATCHES), an exact rank test may show the loss falling (5 in order: 1/120)  # fewer batches (and fewer than 2 evaluations) is too little to judge

# --- real logs (docs/verdicts.md, "Logs from other tools") ---
MIN_EVALS_LEAD = 3  # with this many evaluations after training started, validation leads: trend, convergence, overfitting
END_EVALS_FRACTION = 1 / 3  # the end of the validation series: its last third (at least 3 evaluations)
FEW_EVALS_CORROBORATE = (
    5  # up to this many evaluations, a validation fall their noise cannot show is still learning when the training batches show it
)
FEW_RISES_MIN = 3  # validation rising at every one of at least this many evaluations after its best ...
PRE_BEST_NOISE_MIN = 5  # from this many evaluations up to the best, their noise may be the series (an excursion after it is none)
NOISE_DF_VETO = 5  # ... unless the series' own noise, measured on this many degrees of freedom or more, is as large as the rise
FEW_EVALS_ALL_ABOVE = 7  # up to this many evaluations, the best at the first or second and every later one above it (see trends._few_all_above) ...
RANK_RISE_MIN = 7  # evaluations after the best that rise by their order alone (Mann-Kendall at Z: 7 in order is 1/5040, 6 only 1/720) ...
DIVERGE_VAL_EVALS_MIN = 7  # evaluations after a training rise that, falling in order beyond chance (7 in order: 1/5040), say it was no divergence
FEW_RISE_REL = 0.05  # ... by at least 5% of the best in all (a mean over 10,000+ tokens moves under 1% by chance): overfitting
NEVER_FELL_EVALS_MIN = 6  # from this many evaluations, validation no lower over its last third than its first (see trends._val_never_fell) ...
NEVER_FELL_TRAIN_REL = 0.5  # ... while training fell by half of its level or more ...
NEVER_FELL_GAP_REL = 0.25  # ... and ends at a quarter of validation or below (its last third and its last two): overfitting
SCHEDULE_END_REL = 0.05  # a learning rate at the end at 5% of its peak or less: the schedule has ended (a still-falling end is its annealing)
FLAT_SLOPE_REL = 0.1  # a curve has flattened when its slope at the end is under 10% of its average slope (judges of real logs: docs/accuracy.md)
END_FALL_REL = 0.1  # ... unless its end window fell, beyond noise, by a tenth of its level or more (an initial collapse inflates the average)
BENT_FLAT_EVALS_MIN = 12  # a validation series bent flat at its end is looked for from this many evaluations (its last third)
STEADY_END_SHARE = 0.5  # a short log's last half falling beyond noise is still falling when its end window falls at least half as steeply
STEADY_END_Z = 1.0  # ... and its end window leans down by at least this many of its own standard errors
PRETRAINED_UNIGRAM_REL = 0.8  # a first loss below 80% of the unigram level (Zipf estimate) means a pretrained start ...
PRETRAINED_EARLY_STEPS = 100  # ... when it is logged within this many steps ...
PRETRAINED_EARLY_FRACTION = 0.05  # ... or within the first 5% of the run
PRETRAINED_ANY_V_LOSS = 2.5  # with no vocabulary size: below 0.8 x the unigram level of the smallest real vocabularies (~50 ids)
STUCK_MIN_SPAN = 1000  # steps: a run flat for at least this long after its first logged loss ...
STUCK_MAX_DROP_REL = 0.05  # ... that fell less than 5% over that span ...
STUCK_UNIGRAM_REL = 0.2  # ... while within 20% of the unigram level has learned token frequencies and nothing else
CONSTANT_RUN = 5  # this many identical logged losses in a row (to 1e-4 nats) is an input-independent output
CONSTANT_TOL = 1e-4  # identical to this (on a tiny scale scaled down as the band floor is, Context.min_band / MIN_BAND ...)
ZERO_TOL = 1e-8  # ... and at least this (a loss of 1e-9 at every record is 0 printed in floats)
GRAD_NONFINITE_MIN = 2  # gradient norms logged, every one NaN or infinite: no update was ever finite (one alone may be fp16's first step)
ZERO_RUN = 10  # a loss of exactly 0 (to CONSTANT_TOL) at this many records, every one from the first: none is computed
IDENTICAL_EVALS = 3  # this many identical evaluation losses in a row: the weights are not changing
END_JUMP_REL = 1.5  # the last records (2 or more) half again the level before them or more, above every earlier record: blown up at the end
FROZEN_ACC_EVALS = 8  # the validation accuracy identical at this many evaluations or more, from the first: predictions never change class
SCALE_RATIO = 3.0  # training loss more than 3x the validation loss at the same steps is not a mean per-token loss ...
SCALE_MIN_NATS = 1.0  # ... when it is also more than 1 nat above it
EVAL_MULTIPLE_TOL = 0.05  # evaluation loss within 5% of the same integer multiple k >= 2 of the training level ...
EVAL_MULTIPLE_MIN_EVALS = 3  # ... at every one of at least 3 evaluations: summed over k processes, read divided by k
SCALE_COLLAPSE_SKIPPED = 10  # fp16: the loss scale down to 1 and at least this many steps skipped: the gradients overflow unscaled
ZERO_AFTER = 0.1  # a loss of exactly 0.0 after losses above this is a filtered non-finite value, not a loss
STAIRCASE_WINDOW = 0.1  # an epoch's first and last 10% of batches (at least 3) give its level at start and end ...
STAIRCASE_RATIO = 2.0  # ... a drop across an epoch boundary more than 2x the whole fall within the next epoch ...
STAIRCASE_MIN_BOUNDARIES = 2  # ... at 2 or more boundaries ...
STAIRCASE_SHARE = 0.5  # ... and at least half of them: training examples recognised on a later pass (memorising)
MEMORISED_NATS = 0.05  # training loss under 0.05 nats/token (perplexity 1.05) after more than one epoch on real data: memorised
MEMORISED_START_NATS = 2.5  # ... only when it started above this (a language model's, not a classifier's or DPO's loss), or, with epochs, V is known
FIRST_EPOCH_LOW_NATS = 0.2  # batch loss under 0.2 nats/token within the first epoch, on unseen real data: padding counted?
FEW_BATCHES_NO_FACTS = 100  # fewer batches than this, with no validation and no vocabulary size: inconclusive ...
FEW_SETTLED_SE = 0.05  # ... unless the end's trend was measured: a change beyond noise, or settled within 5% of the level
FEW_SETTLED_FALL = 0.25  # ... or settled after a fall: the end's change, and 2 standard errors of it, within a quarter of the fall
DEFAULT_DROPOUT = 0.1  # real data, dropout not logged: the usual default
REAL_DATA_DROPOUT_FACTOR = 2.0  # real data: validation may sit below training by 2 x dropout x (train level), from dropout and lag
INIT_TIED_REL = 0.1  # a first loss below ln V by at most 10% of it: tied embeddings favour repeating the input (warn, not a leak)
HF_SHIFT_MIN_T = 8  # a Hugging Face log below an exact floor by (T - 1)/T, T >= 8 (at most 1/8), is the Trainer's label count
LOSS_CEILING_NATS = 12.48  # ln 2^18: a whole run's average above this is no per-token cross-entropy of any vocabulary that worked
OVERCONFIDENT_LNV = 3.0  # epoch rows: validation past ln V, up to 3 ln V + 1 nat, with training well below ln V is overconfidence (overfitting)
INIT_BAND_LOW_NATS = 0.05  # the healthy init band starts this far below ln V (floors.init_loss_band)
