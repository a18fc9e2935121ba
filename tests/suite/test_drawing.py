"""Process flow drawings: well-formed, escaped, CSP-safe, deterministic SVG with a sane layout."""

from __future__ import annotations

import copy
import re
import time
import xml.etree.ElementTree as ET

import pytest

from suite.workflow.drawing import node_label, render_flow

SVG = "{http://www.w3.org/2000/svg}"

PURCHASE = {
    "key": "purchasing.purchase_request",
    "label": {"en": "Purchase request", "zh_CN": "采购申请"},
    "document": "purchasing.purchase_request",
    "fields": {
        "amount": {"type": "money", "label": {"en": "Amount", "zh_CN": "金额"}},
        "buyer": {"type": "member", "label": {"en": "Buyer", "zh_CN": "采购员"}},
    },
    "params": {"finance_threshold": 5000, "gm_threshold": 50000},
    "start": "submit",
    "nodes": {
        "submit": {
            "kind": "edit",
            "label": {"en": "Requester", "zh_CN": "申请人提交"},
            "next": "dept_head",
        },
        "dept_head": {
            "kind": "approval",
            "label": {"en": "Department head", "zh_CN": "部门负责人审批"},
            "approvers": [{"resolver": "department_head"}],
            "mode": "any",
            "next": "over_finance",
        },
        "over_finance": {
            "kind": "decision",
            "label": {"en": "Finance check", "zh_CN": "财务金额判断"},
            "cases": [{"when": "amount > finance_threshold", "next": "finance"}],
            "default": "notify",
        },
        "finance": {
            "kind": "approval",
            "label": {"en": "Finance review", "zh_CN": "财务审核"},
            "approvers": [{"resolver": "role", "role": "suite.finance"}],
            "mode": "all",
            "next": "over_gm",
        },
        "over_gm": {
            "kind": "decision",
            "label": {"en": "GM check", "zh_CN": "总经理金额判断"},
            "cases": [{"when": "amount > gm_threshold", "next": "gm"}],
            "default": "notify",
        },
        "gm": {
            "kind": "approval",
            "label": {"en": "General manager", "zh_CN": "总经理审批"},
            "approvers": [
                {"resolver": "manager", "levels": 2},
                {"resolver": "role", "role": "suite.gm"},
            ],
            "mode": "sequential",
            "next": "notify",
        },
        "notify": {
            "kind": "cc",
            "label": {"en": "Tell the buyer", "zh_CN": "抄送采购员"},
            "recipients": [{"resolver": "field", "field": "buyer"}],
            "next": "done",
        },
        "done": {"kind": "end", "label": {"en": "Done", "zh_CN": "结束"}},
    },
}

PARALLEL = {
    "key": "suite.contract_review",
    "label": {"en": "Contract review", "zh_CN": "合同会审"},
    "start": "submit",
    "nodes": {
        "submit": {
            "kind": "edit",
            "label": {"en": "Requester", "zh_CN": "发起人"},
            "next": "split",
        },
        "split": {
            "kind": "parallel",
            "label": {"en": "Review together", "zh_CN": "并行会审"},
            "branches": ["legal", "finance"],
            "join": "merge",
        },
        "legal": {
            "kind": "approval",
            "label": {"en": "Legal", "zh_CN": "法务审核"},
            "approvers": [{"resolver": "role", "role": "suite.legal"}],
            "mode": "n_of_m",
            "n": 2,
            "m": 3,
            "next": "merge",
        },
        "finance": {
            "kind": "approval",
            "label": {"en": "Finance", "zh_CN": "财务审核"},
            "approvers": [{"resolver": "user", "user": "wang"}],
            "mode": "any",
            "optional": True,
            "enabled": False,
            "next": "merge",
        },
        "merge": {
            "kind": "join",
            "label": {"en": "All reviewed", "zh_CN": "会审完成"},
            "next": "stamp",
        },
        "stamp": {
            "kind": "automation",
            "label": {"en": "Stamp contract", "zh_CN": "合同盖章"},
            "action": "suite.stamp",
            "next": "cool",
        },
        "cool": {
            "kind": "wait",
            "label": {"en": "Cooling-off", "zh_CN": "冷静期"},
            "after": "2wd",
            "next": "done",
        },
        "done": {"kind": "end"},
    },
}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output


def texts(root: ET.Element) -> str:
    return " ".join(t for el in root.iter(f"{SVG}text") for t in el.itertext())


def node_boxes(root: ET.Element) -> dict[str, tuple[float, float]]:
    """node id -> (centre x, top y), from the node groups' transforms and their first box."""
    out = {}
    for g in root.iter(f"{SVG}g"):
        if "data-node" in g.attrib:
            found = re.fullmatch(r"translate\(([-\d.]+) ([-\d.]+)\)", g.get("transform"))
            x, y = float(found[1]), float(found[2])
            box = next(r for r in g.iter(f"{SVG}rect") if r.get("x") == "0")
            out[g.get("data-node")] = (x + float(box.get("width")) / 2, y)
    return out


def group(root: ET.Element, node_id: str) -> ET.Element:
    return next(g for g in root.iter(f"{SVG}g") if g.get("data-node") == node_id)


@pytest.mark.parametrize("spec", [PURCHASE, PARALLEL], ids=["purchase", "parallel"])
def test_the_drawing_is_a_well_formed_accessible_svg(spec):
    svg = str(render_flow(spec))
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label").startswith(spec["label"]["zh_CN"])
    assert root.find(f"{SVG}title").text == root.get("aria-label")
    assert root.get("width") == "100%"
    assert len(root.get("viewBox").split()) == 4
    assert all(
        g.find(f"{SVG}title") is not None for g in root.iter(f"{SVG}g") if "data-node" in g.attrib
    )


@pytest.mark.parametrize("spec", [PURCHASE, PARALLEL], ids=["purchase", "parallel"])
def test_every_node_label_is_drawn(spec):
    root = parse(str(render_flow(spec)))
    shown = texts(root)
    for node_id, node in spec["nodes"].items():
        if "label" in node:
            assert node["label"]["zh_CN"] in shown, node_id
        assert group(root, node_id) is not None


def test_english_labels_and_the_fallback_to_english_then_the_node_id():
    shown = texts(parse(str(render_flow(PURCHASE, label_locale="en"))))
    assert "Department head" in shown
    assert "Default" in shown
    assert "in turn" in shown
    assert node_label("x", {"label": {"en": "Only English"}}, "zh_CN") == "Only English"
    assert node_label("x", {"label": "Plain"}, "zh_CN") == "Plain"
    assert node_label("finance", {"kind": "approval"}, "zh_CN") == "finance"
    bare = {"start": "a", "nodes": {"a": {"kind": "approval", "next": "b"}, "b": {"kind": "end"}}}
    root = parse(str(render_flow(bare)))
    assert "a" in texts(root).split()
    assert "结束" in texts(root)


def test_conditions_are_written_on_their_edges_and_the_default_says_other():
    root = parse(str(render_flow(PURCHASE)))
    conds = [g for g in root.iter(f"{SVG}g") if g.get("class") == "flow-cond"]
    titles = [g.find(f"{SVG}title").text for g in conds]
    assert "amount > finance_threshold" in titles
    assert "amount > gm_threshold" in titles
    shown = texts(root)
    assert "amount > gm_threshold" in shown
    assert "其他" in shown


def test_approver_summaries_name_resolvers_and_modes():
    shown = texts(parse(str(render_flow(PURCHASE, labels={"suite.finance": "财务"}))))
    assert "部门负责人 · 或签" in shown
    assert "角色：财务 · 会签" in shown
    assert "逐级 2 级" in shown
    assert "依次" in shown
    assert "表单字段：采购员" in shown
    shown = texts(parse(str(render_flow(PARALLEL))))
    assert "角色：suite.legal · 2/3" in shown
    assert "等待 2 个工作日" in shown
    assert "suite.stamp" in shown


def test_a_node_summary_can_be_given_by_the_caller():
    shown = texts(parse(str(render_flow(PURCHASE, labels={"gm": "王总、李总"}))))
    assert "王总、李总" in shown


def test_edges_end_in_an_arrow_marker_that_exists():
    svg = str(render_flow(PURCHASE))
    root = parse(svg)
    ids = {m.get("id") for m in root.iter(f"{SVG}marker")}
    refs = re.findall(r'marker-end="url\(#([^)]+)\)"', svg)
    assert len(refs) == 9  # every edge, the default edges included
    assert set(refs) <= ids


def test_current_and_done_nodes_are_marked():
    root = parse(str(render_flow(PURCHASE, highlight=["finance"], done=["submit", "dept_head"])))
    assert "current" in group(root, "finance").get("class").split()
    assert "done" in group(root, "dept_head").get("class").split()
    assert group(root, "dept_head").find(f"{SVG}g[@class='check']") is not None
    assert "current" not in group(root, "gm").get("class").split()
    rects = list(group(root, "finance").iter(f"{SVG}rect"))
    assert any(r.get("stroke") == "#0b6e4f" for r in rects)


def test_a_disabled_optional_node_is_dashed_and_says_so():
    root = parse(str(render_flow(PARALLEL)))
    finance = group(root, "finance")
    assert "disabled" in finance.get("class").split()
    assert any(r.get("stroke-dasharray") for r in finance.iter(f"{SVG}rect"))
    assert "已停用" in texts(finance)


@pytest.mark.parametrize("spec", [PURCHASE, PARALLEL], ids=["purchase", "parallel"])
def test_no_scripts_styles_or_external_references(spec):
    svg = str(render_flow(spec, highlight=["submit"]))
    assert "<script" not in svg.lower()
    assert "style=" not in svg
    assert "href" not in svg
    assert set(re.findall(r"https?://[^\s\"'<>]+", svg)) == {"http://www.w3.org/2000/svg"}
    assert " on" not in re.sub(r">[^<]*<", "><", svg)  # no event handler attributes


def test_text_is_escaped():
    spec = copy.deepcopy(PURCHASE)
    spec["nodes"]["gm"]["label"] = {"zh_CN": "<b>&总经理", "en": "<b>&GM"}
    spec["nodes"]["over_gm"]["cases"][0]["when"] = 'amount > 1 and title == "<x>"'
    svg = str(render_flow(spec, labels={"notify": "<script>alert(1)</script>"}))
    assert "<b>" not in svg
    assert "&lt;b&gt;&amp;总经理" in svg
    assert "<script" not in svg
    root = parse(svg)
    assert "<b>&总经理" in texts(root)
    assert "<script>alert(1)</script>" in group(root, "notify").find(f"{SVG}title").text


def test_the_same_input_gives_the_same_bytes():
    first = render_flow(PURCHASE, highlight={"gm", "finance"}, done={"submit"})
    again = render_flow(copy.deepcopy(PURCHASE), highlight=["finance", "gm"], done=["submit"])
    assert first == again
    assert render_flow(PARALLEL) == render_flow(PARALLEL)


def test_the_purchase_chain_is_one_straight_column_with_skips_in_a_lane():
    boxes = node_boxes(parse(str(render_flow(PURCHASE))))
    chain = ["submit", "dept_head", "over_finance", "finance", "over_gm", "gm", "notify", "done"]
    assert len({round(boxes[n][0]) for n in chain}) == 1
    tops = [boxes[n][1] for n in chain]
    assert tops == sorted(tops)
    assert len(set(tops)) == len(tops)


def test_parallel_branches_sit_side_by_side_under_a_centred_split():
    root = parse(str(render_flow(PARALLEL)))
    boxes = node_boxes(root)
    (lx, ly), (fx, fy) = boxes["legal"], boxes["finance"]
    assert ly == fy
    assert lx < fx
    assert boxes["split"][0] == pytest.approx((lx + fx) / 2, abs=1)
    assert boxes["merge"][0] == pytest.approx(boxes["split"][0], abs=1)
    assert boxes["submit"][1] < boxes["split"][1] < ly < boxes["merge"][1] < boxes["done"][1]
    bars = [p for p in root.iter(f"{SVG}path") if p.get("stroke-width") == "3"]
    assert len(bars) == 2  # the split bar and the join bar


@pytest.mark.parametrize("spec", [PURCHASE, PARALLEL], ids=["purchase", "parallel"])
def test_two_columns_fit_a_phone(spec):
    _, _, width, _ = map(float, parse(str(render_flow(spec))).get("viewBox").split())
    assert width <= 366  # a 390 px phone less the page padding


def test_a_broken_spec_still_draws():
    spec = {
        "start": "missing",
        "nodes": {
            "a": {"kind": "approval", "next": "b"},
            "b": {"kind": "decision", "cases": [{"when": "x", "next": "a"}], "default": "nowhere"},
            "c": {"kind": "mystery"},
        },
    }
    root = parse(str(render_flow(spec)))
    assert {g.get("data-node") for g in root.iter(f"{SVG}g") if "data-node" in g.attrib} == {
        "a",
        "b",
        "c",
    }
    assert render_flow({"nodes": {}}).startswith("<svg")


def big_spec(n: int = 30) -> dict:
    """Approvals with a decision every fourth node whose default skips ahead, plus a parallel."""
    nodes: dict = {"n0": {"kind": "edit", "next": "n1"}}
    for i in range(1, n - 1):
        nxt = f"n{i + 1}"
        if i % 4 == 0:
            nodes[f"n{i}"] = {
                "kind": "decision",
                "cases": [{"when": f"amount > {i * 1000}", "next": nxt}],
                "default": f"n{min(i + 3, n - 1)}",
            }
        elif i == 2:
            nodes["n2"] = {"kind": "parallel", "branches": ["p1", "p2", "p3"], "join": "n3"}
        else:
            nodes[f"n{i}"] = {
                "kind": "approval",
                "label": {"en": f"Step {i}", "zh_CN": f"第 {i} 步"},
                "approvers": [{"resolver": "role", "role": f"r{i}"}],
                "mode": "any",
                "next": nxt,
            }
    nodes["n3"] = {"kind": "join", "next": "n4"}
    for p in ("p1", "p2", "p3"):
        nodes[p] = {
            "kind": "approval",
            "approvers": [{"resolver": "user", "user": p}],
            "next": "n3",
        }
    nodes[f"n{n - 1}"] = {"kind": "end"}
    return {"key": "big", "start": "n0", "nodes": nodes}


def test_thirty_nodes_render_in_under_100_ms():
    spec = big_spec(27)
    assert len(spec["nodes"]) == 30
    render_flow(spec)
    best = min(_timed(spec) for _ in range(3))
    assert best < 0.1
    parse(str(render_flow(spec)))


def _timed(spec: dict) -> float:
    began = time.perf_counter()
    render_flow(spec, highlight=["n5"], done=["n0", "n1"])
    return time.perf_counter() - began
