"""The commands that run a paper's model find it through the registry: `papers.model_paper` picks
the paper by model name, else the default one, and says which part is missing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from studykit.cli import main
from studykit.papers import DEFAULT_PAPER, model_paper, registries, resolve
from vit_impl.equations import REGISTRY as VIT


def list_models() -> list[str]:  # the toy paper's models module is this one
    return ["toy_tiny", "toy_base"]


TOY = replace(VIT, arxiv="9999.00001", title="A Toy Paper", model="toy_base", models_module=__name__,
              explain_attention="", draw_attention="", load_model="", train="", train_arguments="", train_config="")


def test_resolve_imports_what_the_string_names():
    from vit_impl.attention import explain

    assert resolve(VIT.explain_attention) is explain
    with pytest.raises(ModuleNotFoundError):
        resolve("no_such_package.module:thing")


def test_the_default_paper_is_installed_and_offers_every_command():
    default = registries()[DEFAULT_PAPER]
    assert default.model in default.model_names()
    for command in ("load_model", "explain_attention", "draw_attention", "train_arguments",
                    "train_config", "train"):
        assert callable(resolve(getattr(default, command))), command


def test_a_model_picks_its_own_paper_and_no_model_the_default():
    known = {TOY.arxiv: TOY, VIT.arxiv: VIT}
    assert model_paper("explain_attention", "vit_small_patch16_224", known) is VIT
    assert model_paper("train", None, known) is VIT
    assert model_paper("train", "not_a_model_anyone_has", known) is VIT  # its load_model then names the known ones


def test_a_paper_without_the_command_says_so():
    known = {TOY.arxiv: TOY, VIT.arxiv: VIT}
    with pytest.raises(LookupError, match=r"toy_tiny: A Toy Paper \(arXiv 9999.00001\) has no explain attention"):
        model_paper("explain_attention", "toy_tiny", known)
    with pytest.raises(LookupError, match="no installed paper .* has a train"):
        model_paper("train", None, {TOY.arxiv: TOY})


def test_without_the_default_paper_another_that_offers_the_command_runs_it():
    other = replace(VIT, arxiv="9999.00002")
    assert model_paper("train", None, {TOY.arxiv: TOY, other.arxiv: other}) is other


def test_train_help_lists_the_papers_options_without_torch(imported_modules, capsys):
    assert "torch" not in imported_modules("train", "--help")
    with pytest.raises(SystemExit) as done:
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0 and out.startswith("usage: studykit train") and "--dataset" in out


def test_a_bad_train_option_is_argparse_usage_exit_2(capsys):
    with pytest.raises(SystemExit) as done:
        main(["train", "--no-such-option"])
    assert done.value.code == 2 and "unrecognized arguments: --no-such-option" in capsys.readouterr().err
