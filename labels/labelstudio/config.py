"""The Label Studio labelling config, generated from the taxonomy, and the check of an existing one.

Annotators see each label's Chinese name (``value``) with its description as a hint; Label Studio
stores the label id (``alias``) in the annotation result. ``other`` is one more choice; that it is
exclusive is checked on our side when annotations are pulled (Label Studio does not validate).

Example:
    >>> from policytag.core.taxonomy import load_taxonomy
    >>> xml = label_config(load_taxonomy())
    >>> '<Choice value="行政执法" alias="enforcement"' in xml
    True
    >>> check_label_config(xml, load_taxonomy())
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from policytag.core.taxonomy import Taxonomy

__all__ = [
    "CHOICES_NAME",
    "TEXT_NAME",
    "ConfigMismatchError",
    "ParsedConfig",
    "check_label_config",
    "label_config",
    "parse_label_config",
]

#: ``name`` of the ``<Text>`` tag (and the task data field it shows, ``$text``).
TEXT_NAME = "text"
#: ``name`` of the ``<Choices>`` tag: ``from_name`` of every result.
CHOICES_NAME = "labels"


class ConfigMismatchError(ValueError):
    """A Label Studio project whose labelling config does not match the taxonomy."""


@dataclass(frozen=True)
class ParsedConfig:
    """What the kit needs from a labelling config: tag names, choice mode and ``alias → value``."""

    from_name: str
    to_name: str
    multiple: bool
    choices: dict[str, str]  # stored id (alias, or the value when no alias) -> shown value
    #: the task data field shown by the tag named ``to_name`` (``value="$text"`` → ``"text"``); "" if none
    data_field: str = ""


def label_config(taxonomy: Taxonomy) -> str:
    """The labelling config XML for ``taxonomy``: one multiple-choice ``<Choices>`` over the sentence."""
    lines = [
        "<View>",
        f'  <Text name="{TEXT_NAME}" value="${TEXT_NAME}"/>',
        f'  <Choices name="{CHOICES_NAME}" toName="{TEXT_NAME}" choice="multiple" showInline="false">',
    ]
    for label in taxonomy.labels:
        lines.append(
            f"    <Choice value={quoteattr(label.zh)} alias={quoteattr(label.id)} hint={quoteattr(label.description)}/>"
        )
    lines += ["  </Choices>", "</View>", ""]
    return "\n".join(lines)


def parse_label_config(xml: str) -> ParsedConfig:
    """Read the one ``<Choices>`` tag of a labelling config; ``ConfigMismatchError`` when there is not one."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as e:
        raise ConfigMismatchError(f"the labelling config is not valid XML ({e})") from None
    choices_tags = list(root.iter("Choices"))
    if len(choices_tags) != 1:
        raise ConfigMismatchError(
            f"expected exactly one <Choices> tag in the labelling config, found {len(choices_tags)}"
        )
    tag = choices_tags[0]
    choices: dict[str, str] = {}
    for choice in tag.iter("Choice"):
        value = choice.get("value", "")
        choices[choice.get("alias") or value] = value
    to_name = tag.get("toName", "")
    data_field = ""
    for element in root.iter():
        value = element.get("value", "")
        if element is not tag and element.tag != "Choice" and element.get("name") == to_name and value[:1] == "$":
            data_field = value[1:]
            break
    return ParsedConfig(
        from_name=tag.get("name", ""),
        to_name=to_name,
        multiple=tag.get("choice", "single") == "multiple",
        choices=choices,
        data_field=data_field,
    )


def check_label_config(xml: str, taxonomy: Taxonomy, *, project: str = "the project") -> None:
    """Raise ``ConfigMismatchError`` naming every difference between ``xml`` and what ``taxonomy`` needs.

    Checked: one ``<Choices name="labels" toName="text" choice="multiple">`` over a ``<Text name="text"
    value="$text">``, whose choices store exactly the taxonomy's ids (as ``alias``) and show its Chinese
    names (as ``value``). Hints and layout may differ.
    """
    parsed = parse_label_config(xml)
    problems: list[str] = []
    if parsed.from_name != CHOICES_NAME:
        problems.append(f'<Choices name="{parsed.from_name}"> (expected name="{CHOICES_NAME}")')
    if parsed.to_name != TEXT_NAME:
        problems.append(f'<Choices toName="{parsed.to_name}"> (expected toName="{TEXT_NAME}")')
    if not parsed.multiple:
        problems.append('<Choices> is single-choice (expected choice="multiple")')
    root = ET.fromstring(xml)
    texts = [t for t in root.iter("Text") if t.get("name") == TEXT_NAME]
    if not texts or texts[0].get("value") != f"${TEXT_NAME}":
        problems.append(f'no <Text name="{TEXT_NAME}" value="${TEXT_NAME}"/>')
    missing = [i for i in taxonomy.ids if i not in parsed.choices]
    if missing:
        problems.append(f"choices missing for label ids {missing}")
    extra = [c for c in parsed.choices if c not in taxonomy.index]
    if extra:
        problems.append(f"choices not in the taxonomy: {extra}")
    renamed = [
        f"{i}: {parsed.choices[i]!r} (taxonomy: {taxonomy[i].zh!r})"
        for i in taxonomy.ids
        if i in parsed.choices and parsed.choices[i] != taxonomy[i].zh
    ]
    if renamed:
        problems.append(f"choices shown under other names: {'; '.join(renamed)}")
    if problems:
        raise ConfigMismatchError(
            f"the labelling config of {project} does not match the taxonomy ({taxonomy.source or 'taxonomy'}): "
            + "; ".join(problems)
            + ". Refusing to change it: fix the project's config in Label Studio, or push to a new project."
        )
