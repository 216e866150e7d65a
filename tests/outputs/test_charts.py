"""Charts a person can read: Chinese names in a CJK font (or ids, said once), money in CNY
millions without 1e8 offsets, and no label cut off at the figure's edge."""

from __future__ import annotations

import logging

import pytest
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.text import Text

from optimizer.analysis.whatif import budget_range, frontier, parse_vary, sweep, tornado
from optimizer.core.problem import build_problem
from optimizer.outputs import charts
from optimizer.planner import plan
from tests.helpers import exponential, linear, scenario

LIVE, SEARCH = "自营直播投流 (self-operated live)", "品牌关键词搜索 (brand search)"
LONG_ID = "self_operated_live_traffic_for_the_618_and_double_11_campaigns"


def chinese(budget: float = 100e6):
    """Two channels with Chinese names: live saturates (GMV 600M (1 - exp(-s / 60M))),
    search returns 4 per yuan up to 30M."""
    return scenario(
        [
            exponential("live", 600e6, 60e6, name=LIVE),
            linear("search", 4.0, cap=30e6, name=SEARCH),
        ],
        budget,
        periods=["Q1", "Q2"],
    )


@pytest.fixture
def no_cjk_font(monkeypatch):
    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    monkeypatch.setattr(charts, "_warned", False)


@pytest.fixture
def a_cjk_font(monkeypatch):
    monkeypatch.setattr(charts, "cjk_font", lambda: "Noto Sans CJK SC")


def legend_texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().texts]


def drawn_texts(fig: Figure) -> list[Text]:
    """Titles, axis labels, legend entries and annotations (tick labels are checked through
    the figure's tight box: matplotlib keeps unused ticks beyond the axis limits, not drawn)."""
    fig.draw_without_rendering()
    ticks = {
        id(label)
        for ax in fig.axes
        for axis in (ax.xaxis, ax.yaxis)
        for tick in (*axis.majorTicks, *axis.minorTicks)
        for label in (tick.label1, tick.label2)
    }
    return [
        t
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and id(t) not in ticks
    ]


# --- fonts ---------------------------------------------------------------------------------------


def test_without_a_cjk_font_channels_are_labelled_by_id_with_one_warning(
    no_cjk_font, caplog, capsys
):
    result = plan(chinese())
    with caplog.at_level(logging.WARNING, logger="optimizer.outputs.charts"):
        first = charts.allocation_figure(result)
        charts.response_figure(build_problem(chinese()), result)  # a second chart: no new warning
    assert legend_texts(first) == ["live", "search"]
    assert not any(charts.has_cjk(t.get_text()) for t in drawn_texts(first))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "apt-get install fonts-noto-cjk" in warnings[0].getMessage()
    assert capsys.readouterr().out == ""  # stdout carries data only


def test_with_a_cjk_font_channels_are_labelled_by_name_in_that_font(a_cjk_font):
    fig = charts.allocation_figure(plan(chinese()))
    assert legend_texts(fig) == [LIVE, SEARCH]
    legend = fig.axes[0].get_legend()
    assert all("Noto Sans CJK SC" in t.get_fontfamily() for t in legend.texts)


def test_every_chinese_label_drawn_has_its_glyphs_in_one_of_its_fonts():
    # whatever is installed here: with a CJK font the names are drawn in it, without one the
    # ids are drawn instead; either way no character becomes an empty box
    fig = charts.allocation_figure(plan(chinese()))
    for text in drawn_texts(fig):
        characters = text.get_text()
        if charts.has_cjk(characters):
            families = text.get_fontfamily()
            assert any(charts.font_has_glyphs(f, characters) for f in families), characters


def test_glyph_lookup_reads_the_font_file():
    assert charts.font_has_glyphs("DejaVu Sans", "GMV 581.2 CNY million")
    assert not charts.font_has_glyphs("DejaVu Sans", "自营直播")  # DejaVu has no Chinese
    assert not charts.font_has_glyphs("No Such Family", "GMV")


def test_font_lookup_takes_the_first_listed_family_that_has_the_glyphs(monkeypatch):
    entries = [font_manager.FontEntry(name=n) for n in ("SimHei", "WenQuanYi Zen Hei", "Foo")]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", entries)
    monkeypatch.setattr(charts, "font_has_glyphs", lambda family, text: family != "SimHei")
    charts.cjk_font.cache_clear()
    try:
        assert charts.cjk_font() == "WenQuanYi Zen Hei"  # listed before SimHei, which fails
        monkeypatch.setattr(font_manager.fontManager, "ttflist", entries[2:])
        charts.cjk_font.cache_clear()
        assert charts.cjk_font() is None
    finally:
        charts.cjk_font.cache_clear()


def test_labels_fall_back_to_ids_only_for_text_with_chinese(no_cjk_font):
    shown = charts.labels_for(["搜索", "search", "直播"], ["search_a", "b", "直播_id"])
    assert shown == ["search_a", "search", "#3"]  # an id in Chinese too becomes a number


# --- numbers and layout ------------------------------------------------------------------------


def figures() -> dict[str, Figure]:
    base = chinese()
    result = plan(base)
    budgets = budget_range(50e6, 150e6, 5)
    long_base = scenario(
        [exponential(LONG_ID, 600e6, 60e6, name=LIVE), linear("search", 4.0, cap=30e6)], 100e6
    )
    varies = [
        parse_vary("budget.total_cny=80e6,120e6"),
        parse_vary(f"channels[{LONG_ID}].response.scale_cny=40e6,80e6"),
    ]
    return {
        "allocation": charts.allocation_figure(result),
        "response": charts.response_figure(build_problem(base), result),
        "frontier": charts.frontier_figure(frontier(base, budgets)),
        "tornado": charts.tornado_figure(tornado(long_base, varies, "gmv_cny")),
        "sweep": charts.sweep_figure(sweep(base, [varies[0]]), "gmv_cny"),
        "compare": charts.compare_figure([result, plan(chinese(120e6))], ["100M", "120M 方案"]),
    }


def test_no_label_is_cut_at_the_figure_edge():
    for name, fig in figures().items():
        fig.draw_without_rendering()  # runs the layout
        renderer = fig.canvas.get_renderer()
        everything = fig.get_tightbbox(renderer)  # inches; what is drawn, tick labels included
        assert everything.x0 >= 0 and everything.y0 >= 0, name
        assert everything.x1 <= fig.get_figwidth() and everything.y1 <= fig.get_figheight(), name
        for text in drawn_texts(fig):
            box = text.get_window_extent(renderer)
            inside = box.x0 >= -1 and box.y0 >= -1
            inside = inside and box.x1 <= fig.bbox.x1 + 1 and box.y1 <= fig.bbox.y1 + 1
            assert inside, f"{name}: {text.get_text()!r} at {box} outside {fig.bbox}"


def test_money_axes_are_in_cny_millions_with_plain_ticks():
    shown = figures()
    assert shown["frontier"].axes[1].get_xlabel() == "total budget (CNY million)"
    assert shown["sweep"].axes[0].get_xlabel() == "budget.total_cny (CNY million)"
    assert shown["sweep"].axes[0].get_ylabel() == "gmv_cny (CNY million)"
    assert shown["allocation"].axes[0].get_ylabel() == "spend (CNY million)"
    assert shown["tornado"].axes[0].get_xlabel() == "gmv_cny (CNY million)"
    for name, fig in shown.items():
        fig.draw_without_rendering()
        for ax in fig.axes:
            for axis in (ax.xaxis, ax.yaxis):
                assert axis.get_offset_text().get_text() == "", name
                ticks = [t.get_text() for t in axis.get_ticklabels()]
                assert not any("e+" in t or "e-" in t or "1e" in t for t in ticks), (name, ticks)
    # the sweep's budgets 80M and 120M read as 80 and 120 on its x axis
    ticks = [t.get_text() for t in shown["sweep"].axes[0].get_xticklabels()]
    assert "80" in ticks and "120" in ticks
