"""The app's keys for playing with a run and keeping it: a mixin of `MicrogradApp` (which owns
the bindings), kept apart so app.py stays short.

- Gradient health: every model report's `HealthReport` goes to the Gradients strip; its new
  conditions (a dead neuron, vanishing, exploding or NaN gradients) become notices, once each.
  `h` shows or hides the strip.
- Play with the data: the dataset pane's cursor edits (`1` `2` `3` add, `x` removes) go to the
  training process, which trains on from the edited data; `N` regenerates the data with the next
  noise level and `S` with the next seed (a new run).
- `o` opens the settings form; applying it starts a new run with those settings.
- Keep and share: `w` writes the loss history as CSV and `p` the screen as SVG, both in the
  folder the app was started in, each under a new name (never over a file already there). A
  replay (`--replay run.json`) shows a saved run read-only.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from micrograd.fileio import WriteError, write_new
from micrograd.train import TrainConfig
from tui.formatting import taken_note
from tui.protocol import AddPoint, Configure, DataEdited, ExportHistory, RemovePoint
from tui.screens.settings import SettingsScreen
from tui.widgets.dataset import BoundaryView, DatasetPane
from tui.widgets.health import GradientHealth
from tui.widgets.status import StatusLine

NOISE_LEVELS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)


def next_noise(noise: float) -> float:
    """The next of NOISE_LEVELS above `noise`, round to the first after the last."""
    return next((n for n in NOISE_LEVELS if n > noise + 1e-12), NOISE_LEVELS[0])


class PlayActions:
    """Actions and report handlers mixed into the App."""

    replay: str | None = None  # the checkpoint a replay shows, if this is one

    @property
    def run_config(self: Any) -> TrainConfig:
        """The run's settings as the training process last said, with the current lr."""
        config = self.__dict__.get("_run_config") or self.config
        try:
            return replace(config, lr=self.lr)
        except ValueError:
            return config

    # -- hooks the app calls from its report handlers ----------------------------------------
    def play_dataset_view(self: Any, d: Any) -> None:
        if d.config is not None:
            try:
                self._run_config = TrainConfig.from_dict(d.config)
            except (TypeError, ValueError):
                self._run_config = None
        self.query_one(GradientHealth).clear()
        if self.replay is not None:
            name = Path(self.replay).name
            status = self.query_one(StatusLine)
            status.show(what=f"replay of {name}: {status.what}")
            if not self.__dict__.get("_replay_told"):
                self._replay_told = True
                self.notify(
                    f"Replay of {name}: its loss history and final weights, read-only. "
                    f"microgradtui --load {name} trains on from there.",
                    timeout=10,
                )

    def play_model_view(self: Any, m: Any) -> None:
        for text, severity in self.query_one(GradientHealth).add(m.health):
            self.notify(text, severity=severity, timeout=8)

    def _on_dataedited(self: Any, e: DataEdited) -> None:
        self.query_one(DatasetPane).show_points(e.X_train, e.y_train, e.X_test, e.y_test)

    # -- data ----------------------------------------------------------------------------------
    def on_boundary_view_point_edit(self: Any, message: BoundaryView.PointEdit) -> None:
        point = (message.x, message.y)
        if message.label is None:
            self.session.send(RemovePoint(point))
        else:
            self.session.send(AddPoint(point, message.label))

    def action_regenerate(self: Any, what: str) -> None:
        config = self.run_config
        if config.csv is not None:
            self.notify("Noise and seed make generated data: this run reads a CSV", timeout=4)
            return
        if what == "noise":
            config = replace(config, noise=next_noise(config.noise))
            why = f"Data regenerated with noise {config.noise:g}"
        else:
            config = replace(config, seed=config.seed + 1)
            why = f"Data regenerated with seed {config.seed}"
        self.start_run(config, why)

    # -- settings ------------------------------------------------------------------------------
    def action_settings(self: Any) -> None:
        self.push_screen(SettingsScreen(self.run_config), self._settings_done)

    def _settings_done(self: Any, config: TrainConfig | None) -> None:
        if config is not None:
            self.start_run(config, "Settings applied")

    def start_run(self: Any, config: TrainConfig, why: str) -> None:
        """A new run with `config` in the training process (which says if it cannot)."""
        self.session.send(Configure(config.to_dict(), why))
        if self.replay is None:  # a restart after a crash starts from these settings
            self.session.config = config
            self.session.load = None

    # -- the Gradients strip -------------------------------------------------------------------
    def action_toggle_health(self: Any) -> None:
        strip = self.query_one(GradientHealth)
        visible = strip.display  # hidden by default in a small terminal (app.tcss)
        strip.set_class(visible, "-hidden").set_class(not visible, "-shown")

    # -- keep and share --------------------------------------------------------------------------
    def _step_shown(self: Any) -> int:
        return self.last_report.step if self.last_report else 0

    def action_export_loss(self: Any) -> None:
        name = f"microgradtui-loss-step{self._step_shown()}.csv"
        self.session.send(ExportHistory(str(self.save_folder / name)))

    def action_screenshot_svg(self: Any) -> None:
        name = f"microgradtui-screen-step{self._step_shown()}.svg"
        if self.is_web:  # in a browser: Textual offers it as a download
            self.deliver_screenshot(name)
            return
        path = self.save_folder / name
        try:  # a new file: never over one already there (another run's, or an earlier `p`)
            written = write_new(path, self.export_screenshot())
        except WriteError as exc:
            self.notify(f"Could not save the screenshot: {exc}", severity="error", timeout=8)
            return
        self.notify(f"Saved the screen to {written}{taken_note(path, written)}", timeout=4)
