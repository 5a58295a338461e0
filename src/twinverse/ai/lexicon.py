"""The words the question parser knows, in English and Chinese, as tables.

Each row maps surface words to a meaning in the twin: an entity kind, a
place (continent as a bounding box, country as an ISO code, city as a site),
a metric (a property path, or a value derived from related entities), an
ordering or a comparison. Adding a word is adding a row, not a branch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from twinverse.twin.graph import TwinGraph
from twinverse.twin.model import Entity, EntityKind, RelationKind
from twinverse.twin.quantity import Quantity


@dataclass(frozen=True, slots=True)
class KindWords:
    kind: EntityKind
    en: tuple[str, ...]
    zh: tuple[str, ...]


KINDS: tuple[KindWords, ...] = (
    KindWords(
        EntityKind.MACHINE,
        ("machines", "machine", "equipment", "assets", "asset"),
        ("机器", "设备", "机床"),
    ),
    KindWords(
        EntityKind.LANE,
        ("shipping lanes", "lanes", "lane", "routes", "route", "shipments"),
        ("运输线路", "运输路线", "航线", "线路", "路线"),
    ),
    KindWords(
        EntityKind.LINE,
        ("production lines", "lines", "line"),
        ("生产线", "产线", "线体"),
    ),
    KindWords(
        EntityKind.SITE,
        ("plants", "plant", "factories", "factory", "sites", "site"),
        ("工厂", "基地", "厂区", "站点"),
    ),
    KindWords(EntityKind.SUPPLIER, ("suppliers", "supplier", "vendors", "vendor"), ("供应商",)),
    KindWords(EntityKind.MATERIAL, ("materials", "material", "parts"), ("物料", "材料", "原料")),
    KindWords(EntityKind.PRODUCT, ("products", "product"), ("产品",)),
    KindWords(EntityKind.CUSTOMER, ("customers", "customer", "clients"), ("客户",)),
    KindWords(EntityKind.WAREHOUSE, ("warehouses", "warehouse"), ("仓库",)),
    KindWords(
        EntityKind.PERSON,
        ("people", "employees", "employee", "operators", "staff", "workers"),
        ("员工", "人员", "操作员", "工人"),
    ),
    KindWords(EntityKind.BUFFER, ("buffers", "buffer"), ("缓冲区", "缓存区")),
)


@dataclass(frozen=True, slots=True)
class Region:
    """A continent: matched by name, filtered by a latitude/longitude box."""

    key: str
    en: tuple[str, ...]
    zh: tuple[str, ...]
    bbox: tuple[float, float, float, float]  # lat_min, lon_min, lat_max, lon_max


REGIONS: tuple[Region, ...] = (
    Region("europe", ("europe", "european"), ("欧洲",), (35.0, -25.0, 72.0, 45.0)),
    Region("asia", ("asia", "asian"), ("亚洲",), (-11.0, 60.0, 56.0, 150.0)),
    Region(
        "north-america",
        ("north america", "north american"),
        ("北美洲", "北美"),
        (14.0, -170.0, 72.0, -50.0),
    ),
    Region(
        "south-america",
        ("south america", "latin america", "south american"),
        ("南美洲", "南美", "拉美"),
        (-56.0, -82.0, 13.0, -34.0),
    ),
    Region("africa", ("africa", "african"), ("非洲",), (-35.0, -18.0, 37.0, 52.0)),
    Region("oceania", ("oceania", "australasia"), ("大洋洲",), (-48.0, 110.0, -9.0, 180.0)),
)


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    en: tuple[str, ...]
    zh: tuple[str, ...]


COUNTRIES: tuple[Country, ...] = (
    Country("DE", ("germany", "german"), ("德国",)),
    Country("CN", ("china", "chinese"), ("中国",)),
    Country("MX", ("mexico", "mexican"), ("墨西哥",)),
    Country("BR", ("brazil", "brazilian"), ("巴西",)),
    Country("ZA", ("south africa", "south african"), ("南非",)),
    Country("US", ("united states", "usa", "the us"), ("美国",)),
    Country("JP", ("japan", "japanese"), ("日本",)),
    Country("KR", ("south korea", "korea", "korean"), ("韩国",)),
    Country("TW", ("taiwan",), ("台湾",)),
    Country("IN", ("india", "indian"), ("印度",)),
    Country("AU", ("australia", "australian"), ("澳大利亚", "澳洲")),
    Country("CL", ("chile", "chilean"), ("智利",)),
    Country("FR", ("france", "french"), ("法国",)),
    Country("IT", ("italy", "italian"), ("意大利",)),
    Country("PL", ("poland", "polish"), ("波兰",)),
    Country("CA", ("canada", "canadian"), ("加拿大",)),
    Country("SE", ("sweden", "swedish"), ("瑞典",)),
    Country("CZ", ("czechia", "czech republic", "czech"), ("捷克",)),
    Country("NL", ("netherlands", "dutch"), ("荷兰",)),
    Country("ES", ("spain", "spanish"), ("西班牙",)),
    Country("GB", ("united kingdom", "britain", "uk"), ("英国",)),
    Country("VN", ("vietnam",), ("越南",)),
    Country("TH", ("thailand",), ("泰国",)),
    Country("ID", ("indonesia",), ("印度尼西亚", "印尼")),
    Country("MY", ("malaysia",), ("马来西亚",)),
    Country("PE", ("peru",), ("秘鲁",)),
    Country("AR", ("argentina",), ("阿根廷",)),
    Country("CD", ("congo", "drc"), ("刚果",)),
)

UNIT_ZH: dict[str, str] = {
    "小时": "h",
    "天": "d",
    "分钟": "min",
    "秒": "s",
    "千瓦": "kW",
    "兆瓦": "MW",
    "欧元": "EUR",
    "公里": "km",
    "吨": "t",
}
"""Chinese unit words and the unit symbols the twin's quantities use."""

UNIT_CASE: dict[str, str] = {
    "kw": "kW",
    "mw": "MW",
    "kwh": "kWh",
    "mwh": "MWh",
    "eur": "EUR",
    "usd": "USD",
    "hours": "h",
    "hour": "h",
    "days": "d",
    "day": "d",
    "minutes": "min",
}
"""Units as typed in a lower-cased question, and as the twin's quantities spell them."""

CITY_ZH: dict[str, str] = {
    "斯图加特": "stuttgart",
    "上海": "shanghai",
    "苏州": "suzhou",
    "蒙特雷": "monterrey",
    "坎皮纳斯": "campinas",
    "埃库鲁莱尼": "ekurhuleni",
    "埃库鲁勒尼": "ekurhuleni",
    "北京": "beijing",
    "深圳": "shenzhen",
}
"""Chinese names of cities; the English names come from the twin's own sites."""


class Order(StrEnum):
    HIGHEST = "highest"
    LOWEST = "lowest"


ORDER_WORDS: tuple[tuple[Order, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        Order.HIGHEST,
        ("highest", "largest", "biggest", "most", "greatest", "longest", "maximum", "top"),
        ("最高", "最大", "最多", "最长", "最重", "最贵"),
    ),
    (
        Order.LOWEST,
        ("lowest", "smallest", "least", "fewest", "shortest", "minimum", "cheapest"),
        ("最低", "最小", "最少", "最短", "最轻", "最便宜"),
    ),
)

COMPARE_WORDS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "<",
        ("below", "under", "less than", "lower than", "shorter than", "at most", "beneath"),
        ("低于", "小于", "不到", "少于", "以下"),
    ),
    (
        ">",
        (
            "above",
            "over",
            "more than",
            "greater than",
            "higher than",
            "longer than",
            "exceeding",
            "at least",
        ),
        ("高于", "大于", "超过", "多于", "以上"),
    ),
)

COUNT_WORDS = (("how many", "number of", "count"), ("多少", "几个", "几台", "几家", "几条", "数量"))
MAINTENANCE_WORDS = (
    ("maintenance", "maintained", "servicing", "service", "overhaul", "repair"),
    ("维护", "保养", "检修", "维修"),
)
WHAT_IF_WORDS = (
    ("what happens", "what if", "what would happen", "if the", "closes", "closed"),
    ("如果", "假如", "会怎样", "怎么样", "关闭"),
)


def _number(value: object) -> float | None:
    """A comparable number: a quantity's SI magnitude, a distribution's mean."""
    if isinstance(value, Quantity):
        return value.magnitude
    if isinstance(value, dict) and "dist" in value:
        if "mean" in value:
            return _number(value["mean"])
        scale, shape = _number(value.get("scale")), _number(value.get("shape"))
        if value["dist"] == "weibull" and scale is not None and shape:
            return scale * math.gamma(1.0 + 1.0 / shape)
        parts = [_number(value.get(k)) for k in ("low", "mode", "high")]
        known = [v for v in parts if v is not None]
        return sum(known) / len(known) if known else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return None


def number(value: object) -> float | None:
    """A comparable number: a quantity's SI magnitude, a distribution's mean; else None."""
    return _number(value)


Reader = Callable[[TwinGraph, Entity], object]
"""Reads a metric's raw value (number, quantity or distribution) from an entity."""


def property_value(*path: str) -> Reader:
    def value(_: TwinGraph, entity: Entity) -> object:
        found: object = entity.properties.get(path[0])
        for part in path[1:]:
            found = found.get(part) if isinstance(found, dict) else None
        return found

    return value


def supplied_footprint(graph: TwinGraph, supplier: Entity) -> object:
    """A supplier's carbon footprint: the largest CO₂e per unit among the materials it supplies."""
    best: tuple[float, object] | None = None
    for relation in graph.outgoing(supplier.id, RelationKind.SUPPLIES):
        material = graph.get(relation.target)
        raw = material.properties.get("co2e") if material is not None else None
        value = _number(raw)
        if value is not None and (best is None or value > best[0]):
            best = (value, raw)
    return best[1] if best else None


@dataclass(frozen=True, slots=True)
class Metric:
    """A measurable quantity of some entity kinds, and how to read it."""

    key: str
    en: tuple[str, ...]
    zh: tuple[str, ...]
    readers: tuple[tuple[EntityKind, str, Reader], ...]
    """(kind, property path, reader); path '' means derived from related entities."""
    percent: bool = False


METRICS: tuple[Metric, ...] = (
    Metric(
        "oee",
        ("oee", "overall equipment effectiveness"),
        ("oee", "设备综合效率", "综合效率"),
        (
            (EntityKind.LINE, "oee", property_value("oee")),
            (EntityKind.MACHINE, "oee", property_value("oee")),
            (EntityKind.SITE, "oee", property_value("oee")),
        ),
        percent=True,
    ),
    Metric(
        "carbon",
        ("carbon footprint", "carbon", "co2e", "co2", "emissions", "emission"),
        ("碳足迹", "碳排放", "排放", "碳"),
        (
            (EntityKind.SUPPLIER, "", supplied_footprint),
            (EntityKind.MATERIAL, "co2e", property_value("co2e")),
            (EntityKind.LANE, "emission_factor", property_value("emission_factor")),
            (EntityKind.SITE, "grid_factor", property_value("grid_factor")),
        ),
    ),
    Metric(
        "rul",
        ("remaining useful life", "remaining life", "rul"),
        ("剩余使用寿命", "剩余寿命", "寿命"),
        ((EntityKind.MACHINE, "rul", property_value("rul")),),
    ),
    Metric(
        "health",
        ("health index", "health"),
        ("健康指数", "健康度", "健康"),
        ((EntityKind.MACHINE, "health", property_value("health")),),
    ),
    Metric(
        "scrap",
        ("scrap rate", "scrap", "defect rate"),
        ("废品率", "报废率", "不良率"),
        ((EntityKind.MACHINE, "scrap_rate", property_value("scrap_rate")),),
        percent=True,
    ),
    Metric(
        "mtbf",
        ("mean time between failures", "mtbf"),
        ("平均故障间隔时间", "平均故障间隔", "mtbf"),
        ((EntityKind.MACHINE, "mtbf", property_value("mtbf")),),
    ),
    Metric(
        "mttr",
        ("mean time to repair", "repair time", "mttr"),
        ("平均修复时间", "修复时间", "mttr"),
        ((EntityKind.MACHINE, "mttr", property_value("mttr")),),
    ),
    Metric(
        "power",
        ("power draw", "power", "energy use", "draw"),
        ("功率", "能耗", "耗电"),
        ((EntityKind.MACHINE, "power.busy", property_value("power", "busy")),),
    ),
    Metric(
        "lead-time",
        ("lead time", "transit time"),
        ("交货期", "提前期", "运输时间", "交期"),
        ((EntityKind.LANE, "lead_time", property_value("lead_time")),),
    ),
    Metric(
        "distance",
        ("distance",),
        ("距离",),
        ((EntityKind.LANE, "distance", property_value("distance")),),
    ),
    Metric(
        "capacity",
        ("capacity",),
        ("容量", "产能"),
        (
            (EntityKind.WAREHOUSE, "capacity", property_value("capacity")),
            (EntityKind.BUFFER, "capacity", property_value("capacity")),
            (EntityKind.LANE, "capacity", property_value("capacity")),
        ),
    ),
    Metric(
        "cost",
        ("cost", "costs"),
        ("成本", "费用"),
        (
            (EntityKind.MATERIAL, "cost", property_value("cost")),
            (EntityKind.LANE, "cost", property_value("cost")),
        ),
    ),
    Metric(
        "price",
        ("price", "expensive", "cheapest", "cheaper"),
        ("价格", "售价", "最贵"),
        ((EntityKind.PRODUCT, "price", property_value("price")),),
    ),
    Metric(
        "mass",
        ("mass", "weight", "heaviest", "lightest"),
        ("重量", "质量", "最重", "最轻"),
        ((EntityKind.PRODUCT, "mass", property_value("mass")),),
    ),
    Metric(
        "grid-factor",
        ("grid factor", "grid intensity", "electricity emissions"),
        ("电网排放因子", "电网因子"),
        ((EntityKind.SITE, "grid_factor", property_value("grid_factor")),),
    ),
)
