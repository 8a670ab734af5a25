"""The JSON editor behind `events pull` and `workflows pull` (pure): the result parses to the target, and
only the changed values move; every other byte stays."""
from __future__ import annotations

import json

import pytest

from idflow.pulling.jsonedit import JsonSyntax, parse, rewrite
from idflow.pulling.threeway import pulled_value

TEXT = '''{
    "name": "w",
    "b\\u00e9ta": 1,
    "tasks": [
        {"name": "a", "inputParameters": {"x": 1, "y": [1, 2]}},
        {"name": "b"}
    ],
    "timeoutSeconds": 30,
    "tail1": true,
    "tail2": null
}
'''


def edited(change):
    data = json.loads(TEXT)
    change(data)
    out = rewrite(TEXT, [], data)
    assert json.loads(out) == data
    return out


def test_a_scalar_moves_alone():
    out = edited(lambda d: d.update(timeoutSeconds=900))
    assert out == TEXT.replace('"timeoutSeconds": 30', '"timeoutSeconds": 900')


def test_a_nested_value_in_a_one_line_object_stays_on_its_line():
    out = edited(lambda d: d["tasks"][0]["inputParameters"].update(y=[1, 2, 3], z={"k": "v"}))
    assert out == TEXT.replace('"y": [1, 2]}', '"y": [1, 2, 3], "z": {"k": "v"}}')


def test_the_trailing_members_go_with_their_commas_and_a_new_key_follows_the_style():
    def change(d):
        del d["tail1"], d["tail2"]
        d["failureWorkflow"] = {"name": "f", "list": [1]}
    out = edited(change)
    assert out == TEXT.replace('    "tail1": true,\n    "tail2": null\n',
                               '    "failureWorkflow": {\n        "name": "f",\n        "list": [\n            1\n'
                               '        ]\n    }\n')


def test_a_middle_member_goes_with_its_comma_and_an_escaped_key_is_found():
    out = edited(lambda d: d.pop("b\u00e9ta"))
    assert out == TEXT.replace('    "b\\u00e9ta": 1,\n', "")


def test_a_list_of_another_length_is_written_anew_at_its_indentation():
    out = edited(lambda d: d["tasks"].append({"name": "c"}))
    assert '        {\n            "name": "c"\n        }\n    ],' in out
    assert out.startswith('{\n    "name": "w",\n    "b\\u00e9ta": 1,\n')


def test_true_is_not_1():
    out = edited(lambda d: d.update({"b\u00e9ta": True}))
    assert '"b\\u00e9ta": true' in out


def test_a_broken_text_is_an_error():
    with pytest.raises(JsonSyntax):
        parse('{"a": }')


def test_a_pulled_value_keeps_what_the_normal_form_drops_and_leaves_defaults_out():
    local = {"name": "h", "description": "not kept by the server", "actions": [{"action": "x"}]}
    local_normal = {"name": "h", "active": False, "actions": [{"action": "x", "expandInlineJSON": False}]}
    server = {"name": "h", "active": True, "actions": [{"action": "x", "expandInlineJSON": False}]}
    assert pulled_value(server, local, local_normal) == {"name": "h", "description": "not kept by the server",
                                                         "actions": [{"action": "x"}], "active": True}


def test_a_file_with_crlf_line_ends_keeps_them():
    text = TEXT.replace("\n", "\r\n")
    data = json.loads(text)
    data["extra"] = {"a": [1]}
    out = rewrite(text, [], data)
    assert json.loads(out) == data and "\n" not in out.replace("\r\n", "")


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=8),
                     st.floats(allow_nan=False, allow_infinity=False, width=32))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(st.text(max_size=5), inner, max_size=4)),
                       max_leaves=20)


@settings(max_examples=300, deadline=None, database=None)
@given(before=st.dictionaries(st.text(max_size=5), _VALUES, min_size=1, max_size=5),
       after=st.dictionaries(st.text(max_size=5), _VALUES, max_size=5),
       keep=st.lists(st.booleans(), min_size=5, max_size=5), indent=st.sampled_from([None, 2, 4, "\t"]))
def test_any_rewrite_parses_to_its_target_and_an_unchanged_value_keeps_its_bytes(before, after, keep, indent):
    text = json.dumps(before, indent=indent, ensure_ascii=False) + "\n"
    target = {k: v for (k, v), kept in zip(before.items(), keep) if kept} | after
    out = rewrite(text, [], target)
    assert json.loads(out) == json.loads(json.dumps(target))
    assert rewrite(text, [], json.loads(text)) == text
