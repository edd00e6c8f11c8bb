"""The labelling config made from the taxonomy, and the check of an existing one."""

from __future__ import annotations

import pytest

from policytag.core.taxonomy import Taxonomy
from policytag.labels.labelstudio.config import (
    ConfigMismatchError,
    check_label_config,
    label_config,
    parse_label_config,
)


def test_label_config_shows_chinese_names_and_stores_ids(taxonomy: Taxonomy) -> None:
    xml = label_config(taxonomy)
    parsed = parse_label_config(xml)
    assert (parsed.from_name, parsed.to_name, parsed.multiple) == ("labels", "text", True)
    assert parsed.choices == {label.id: label.zh for label in taxonomy.labels}
    assert '<Text name="text" value="$text"/>' in xml
    assert f'hint="{taxonomy["legal_aid"].description}"' in xml
    check_label_config(xml, taxonomy)  # its own config matches


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ('alias="mediation"', 'alias="dispute"'),
            r"missing for label ids \['mediation'\].*not in the taxonomy: \['dispute'\]",
        ),
        (('value="法律援助"', 'value="法援"'), r"legal_aid: '法援' \(taxonomy: '法律援助'\)"),
        (('choice="multiple"', 'choice="single"'), "single-choice"),
        (('name="labels"', 'name="cats"'), 'name="cats"'),
        (('value="$text"', 'value="$sentence"'), r'no <Text name="text" value="\$text"/>'),
        (("<View>", "<View><Choices name='x' toName='text'/>"), "exactly one <Choices>"),
        (("</View>", "</Vie>"), "not valid XML"),
    ],
)
def test_config_mismatch_names_the_difference(taxonomy: Taxonomy, edit: tuple[str, str], message: str) -> None:
    xml = label_config(taxonomy).replace(*edit)
    with pytest.raises(ConfigMismatchError, match=message):
        check_label_config(xml, taxonomy)
