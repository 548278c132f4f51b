"""Before ``sam deploy``: nothing may set the served bundle behind the switch's back (infra.deploy_preflight).

``sam deploy --guided`` offers each parameter's template default (an empty BundleVersion: no bundle, 503)
and saves its answers in samconfig.toml; these are the forms it and a person write there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.deploy_preflight import deploy_problems
from infra.locations import REPO_ROOT

GUIDED_SAVE = 'parameter_overrides = "AlarmEmail=\\"\\" ArtifactsPrefix=\\"models/\\" BundleVersion=\\"\\""'


def samconfig(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "samconfig.toml"
    path.write_text(f"version = 0.1\n{body}\n")
    return path


@pytest.mark.parametrize(
    "section",
    [
        "[default.deploy.parameters]\n" + GUIDED_SAVE,
        "[default.global.parameters]\n" + GUIDED_SAVE,
        '[default.deploy.parameters]\nparameter_overrides = ["ArtifactsPrefix=models/", "BundleVersion=v1"]',
        '[default.deploy.parameters]\nparameter_overrides = "ParameterKey=BundleVersion,ParameterValue=v1"',
    ],
)
def test_a_samconfig_that_sets_the_bundle_version_is_refused(tmp_path: Path, section: str) -> None:
    (problem,) = deploy_problems(samconfig(tmp_path, section), "default", [], stack_exists=True)
    assert "parameter_overrides sets BundleVersion" in problem


def test_other_overrides_other_environments_and_the_repos_own_samconfig_pass(tmp_path: Path) -> None:
    others = '[default.deploy.parameters]\nparameter_overrides = "AlarmEmail=a@b.org BundleVersions=x"'
    assert deploy_problems(samconfig(tmp_path, others), "default", [], stack_exists=True) == []
    staging = "[staging.deploy.parameters]\n" + GUIDED_SAVE
    assert deploy_problems(samconfig(tmp_path, staging), "default", [], stack_exists=True) == []
    assert len(deploy_problems(samconfig(tmp_path, staging), "staging", [], stack_exists=True)) == 1
    assert deploy_problems(REPO_ROOT / "samconfig.toml", "default", [], stack_exists=True) == []
    assert deploy_problems(tmp_path / "missing.toml", "default", [], stack_exists=True) == []


def test_sam_arguments_may_not_set_the_version_nor_guide_a_live_stack(tmp_path: Path) -> None:
    config = tmp_path / "missing.toml"
    overrides = ["--parameter-overrides", "AlarmEmail=ops@example.org", "BundleVersion=v1"]
    (problem,) = deploy_problems(config, "default", overrides, stack_exists=True)
    assert "BundleVersion is set by --bundle" in problem
    assert deploy_problems(config, "default", ["--parameter-overrides", "AlarmEmail=a@b"], True) == []

    (problem,) = deploy_problems(config, "default", ["--guided"], stack_exists=True)
    assert "--guided would set BundleVersion back to its empty default" in problem
    assert deploy_problems(config, "default", ["-g"], stack_exists=False) == []  # a first deploy may
