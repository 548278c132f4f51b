"""Read a CloudFormation/SAM YAML template, short-form intrinsic tags included (!Ref, !Sub, !GetAtt, ...).

Tags become the long form CloudFormation itself uses (``!Ref X`` -> ``{"Ref": "X"}``, ``!GetAtt A.B`` ->
``{"Fn::GetAtt": ["A", "B"]}``, ``!Sub s`` -> ``{"Fn::Sub": "s"}``), so a test can inspect the template as
data and the same code reads `sam build`'s output, which is already long form.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that also understands CloudFormation's tags."""


def _construct_intrinsic(loader: _CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    if tag_suffix == "Condition":
        return {"Condition": value}
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_intrinsic)


def stack_uuid(stack_id: str) -> str:
    """template.yaml's ``!Select [2, !Split ["/", !Ref "AWS::StackId"]]``: the stack id's last part, the
    value of the origin header CloudFront adds and the function checks (CXR_ORIGIN_VERIFY)."""
    return stack_id.split("/")[2]


def load_template(path: str | Path) -> dict[str, Any]:
    """The template as plain dicts and lists."""
    return yaml.load(Path(path).read_text(), Loader=_CfnLoader)
