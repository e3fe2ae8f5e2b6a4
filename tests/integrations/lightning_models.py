"""The tiny Lightning modules of tests/integrations/test_lightning.py and test_real_text.py, in a module of their own:
Lightning takes seconds to import, and a test module that subclasses LightningModule at its top level would make
every -n worker pay for it while collecting, whether or not it runs a Lightning test."""

import lightning.pytorch as pl
import torch

V, T = 64, 16


class TinyLM(pl.LightningModule):
    """A bigram model (embedding -> linear): enough to reach ln V on random tokens in a few dozen steps."""

    def __init__(self, vocab_size=V, lr=3e-2, nan_after=None):
        super().__init__()
        self.save_hyperparameters()
        self.emb = torch.nn.Embedding(vocab_size, 16)
        self.head = torch.nn.Linear(16, vocab_size)
        self.calls = 0

    def _loss(self, x):
        logits = self.head(self.emb(x[:, :-1]))
        return torch.nn.functional.cross_entropy(logits.reshape(-1, self.hparams.vocab_size), x[:, 1:].reshape(-1))

    def training_step(self, batch, batch_idx):
        loss = self._loss(batch)
        self.calls += 1
        if self.hparams.nan_after is not None and self.calls > self.hparams.nan_after:
            loss = loss * float("nan")
        return loss

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", self._loss(batch), on_epoch=True, prog_bar=False)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


class Logged(TinyLM):
    """TinyLM that logs what users log: an accuracy each step, the gradient norm before each optimizer step, a
    validation perplexity."""

    def training_step(self, batch, batch_idx):
        logits = self.head(self.emb(batch[:, :-1]))
        self.log("train_acc", (logits.argmax(-1) == batch[:, 1:]).float().mean())
        return torch.nn.functional.cross_entropy(logits.reshape(-1, V), batch[:, 1:].reshape(-1))

    def on_before_optimizer_step(self, optimizer):
        from lightning.pytorch.utilities import grad_norm

        self.log("grad_norm", grad_norm(self, norm_type=2)["grad_2.0_norm_total"])

    def validation_step(self, batch, batch_idx):
        loss = self._loss(batch)
        self.log("val_loss", loss)
        self.log("val_ppl", loss.exp())
