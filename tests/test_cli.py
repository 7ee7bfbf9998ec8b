"""The CLI: every command has help, check-config reports problems by key."""

import argparse

from bot.cli import build_parser, main


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_every_command_has_help():
    parser = build_parser()
    commands = _subcommands(parser)
    assert "check-config" in commands
    helps = {a.dest: a.help for a in parser._subparsers._group_actions[0]._choices_actions}
    for name, sub in commands.items():
        assert helps.get(name), f"command {name!r} has no help line"
        assert sub.description, f"command {name!r} has no description"
        for action in sub._actions:
            if action.dest != "help" and action.option_strings:
                assert action.help, f"option {action.option_strings} of {name!r} has no help"
            if not action.option_strings and action.dest not in ("help",):
                assert action.help, f"argument {action.dest!r} of {name!r} has no help"


def test_check_config_ok(capsys):
    assert main(["check-config"]) == 0
    assert "OK" in capsys.readouterr().out


def test_check_config_names_the_key(tmp_path, capsys):
    bad = tmp_path / "c.yaml"
    bad.write_text("arxiv:\n  categories: [cs.AI, astroph]\nstorage:\n  pth: x\n")
    assert main(["--config", str(bad), "check-config"]) == 2
    err = capsys.readouterr().err
    assert "arxiv.categories[1]: unknown arXiv category 'astroph'" in err
    assert "storage.pth: unknown key" in err


def test_config_env_var(tmp_path, monkeypatch, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("arxiv:\n  categories: [quant-ph]\n")
    monkeypatch.setenv("PAPERBOT_CONFIG", str(cfg))
    assert main(["check-config"]) == 0
    assert "quant-ph" in capsys.readouterr().out


def test_the_placeholder_contact_is_warned_about(capsys):
    assert main(["check-config"]) == 0  # the shipped config keeps the placeholder for you to replace
    assert "warning: arxiv.user_agent still names the placeholder contact you@example.org" in capsys.readouterr().out


def test_log_level_is_case_insensitive_and_options_follow_the_command(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("arxiv:\n  categories: [quant-ph]\n  user_agent: 'lab (mailto:a@lab.org)'\n")
    assert main(["check-config", "-c", str(cfg), "--log-level", "warning"]) == 0
    out = capsys.readouterr().out
    assert "quant-ph" in out and "warning:" not in out
