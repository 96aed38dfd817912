"""The simulator's own table of regions (provincial-level bureaus, 省级税务局).

A region is the first two digits of a division code, except the five cities with
their own bureau (计划单列市), which keep four. The admin API names an
enterprise's region explicitly, so nothing here parses tax ids. This table, not
banshui's driver profiles, decides how the simulated regions behave.
"""

from typing import Final

REGIONS: Final[dict[str, str]] = {
    "11": "北京",
    "12": "天津",
    "13": "河北",
    "14": "山西",
    "15": "内蒙古",
    "21": "辽宁",
    "2102": "大连",
    "22": "吉林",
    "23": "黑龙江",
    "31": "上海",
    "32": "江苏",
    "33": "浙江",
    "3302": "宁波",
    "34": "安徽",
    "35": "福建",
    "3502": "厦门",
    "36": "江西",
    "37": "山东",
    "3702": "青岛",
    "41": "河南",
    "42": "湖北",
    "43": "湖南",
    "44": "广东",
    "4403": "深圳",
    "45": "广西",
    "46": "海南",
    "50": "重庆",
    "51": "四川",
    "52": "贵州",
    "53": "云南",
    "54": "西藏",
    "61": "陕西",
    "62": "甘肃",
    "63": "青海",
    "64": "宁夏",
    "65": "新疆",
}


def region_name(region: str) -> str:
    return REGIONS[region]


def client_id(region: str) -> str:
    """The client id (客户端标识) the region's e-tax site logs in with.

    A driver's profile names it; one that names another is refused (2102), so a
    wrong profile fails here instead of the simulator bending to it.
    """
    return f"sim-etax-{region}"
