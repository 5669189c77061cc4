"""Server-rendered SVG charts: the geometry is computed here, the template only draws it (escaped)."""

from __future__ import annotations

from dataclasses import dataclass, field

WIDTH = 720
HEIGHT = 220
LEFT = 36
BOTTOM = 22
TOP = 10


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Label:
    x: float
    text: str
    anchor: str = "middle"


@dataclass
class Chart:
    title: str
    series: list[tuple[str, str]]
    """(name, css class) for the legend."""
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Bar] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    left: int = LEFT
    baseline: float = HEIGHT - BOTTOM
    empty: bool = False


def _nice_max(value: int) -> int:
    for scale in (1, 10, 100, 1000, 10000, 100000):
        for step in (1, 2, 5):
            if step * scale * 4 >= value:
                return step * scale * 4
    return value


def stacked_bars(
    title: str, columns: list[tuple[str, list[int]]], series: list[tuple[str, str]], every: int = 5
) -> Chart:
    """One stacked bar per column (a day), one segment per series, with a y axis of four ticks."""
    chart = Chart(title, series)
    top = max((sum(values) for _, values in columns), default=0)
    chart.empty = top == 0
    scale_max = _nice_max(max(top, 1))
    plot_height = chart.baseline - TOP
    slot = (chart.width - chart.left - 4) / max(len(columns), 1)
    for n in range(5):
        value = scale_max * n // 4
        chart.ticks.append(Tick(chart.baseline - plot_height * value / scale_max, str(value)))
    for index, (label, values) in enumerate(columns):
        x = chart.left + index * slot + slot * 0.15
        y = chart.baseline
        for (name, css), value in zip(series, values, strict=True):
            if value <= 0:
                continue
            height = plot_height * value / scale_max
            y -= height
            chart.bars.append(
                Bar(
                    round(x, 2),
                    round(y, 2),
                    round(slot * 0.7, 2),
                    round(height, 2),
                    css,
                    f"{label}: {value} {name}",
                )
            )
        if index == len(columns) - 1:
            chart.labels.append(Label(round(x + slot * 0.7, 2), label, "end"))
        elif index % every == 0 and index < len(columns) - every // 2:
            chart.labels.append(Label(round(x + slot * 0.35, 2), label))
    return chart


@dataclass(frozen=True)
class Share:
    name: str
    value: int
    percent: float


def shares(counts: dict[str, int]) -> list[Share]:
    """Rows of a horizontal bar list: each name's count and its share of the total."""
    total = sum(counts.values()) or 1
    return [Share(name, value, round(100 * value / total, 1)) for name, value in counts.items()]
