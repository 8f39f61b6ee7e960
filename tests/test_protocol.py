"""The protocol between the app and the training process: every command and every report has a
handler on its side, and the protocol module needs no UI."""

from __future__ import annotations

import subprocess
import sys

from micrograd.train import TrainConfig
from tui.protocol import Command, command_classes, report_classes
from tui.training.commands import HANDLERS


def test_every_command_has_a_handler_in_the_training_process():
    assert len(command_classes()) >= 18
    assert set(command_classes()) == set(HANDLERS)


def test_every_report_has_a_place_in_the_app():
    from tui.app import MicrogradApp

    app = MicrogradApp(TrainConfig(samples=20, hidden=(2,)))
    assert len(report_classes()) >= 10
    assert set(report_classes()) == set(app.report_handlers())


def test_what_changes_the_run_is_a_property_of_the_command():
    changing = {c.__name__ for c in command_classes() if c.changes_run}
    assert changing == {
        "ScaleLr",
        "ResetLr",
        "Resume",
        "Step",
        "StepPhase",  # a step, phase by phase
        "Reset",
        "NextDataset",
        "AddPoint",
        "RemovePoint",
        "Configure",
    }
    assert not Command.changes_run


def test_every_command_and_report_says_what_it_is_in_one_line():
    for cls in (*command_classes(), *report_classes()):
        assert cls.__doc__ and cls.__doc__.strip(), cls.__name__


def test_the_protocol_and_the_training_process_import_no_ui():
    code = (
        "import sys, tui.protocol, tui.training, tui.session; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'plotext', 'rich')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
