"""The fixed vocabularies of SPEC 3.1: channels, categories, organisation kinds, with labels."""

from mediation.web.language import lazy_gettext as _l

CHANNELS = {
    "walk_in": _l("Walk-in visit"),
    "hotline": _l("12345 hotline"),
    "online": _l("Online application"),
    "grid": _l("Grid report"),
    "court": _l("Referred by a court"),
    "petition": _l("Transferred from petitions"),
    "police": _l("Transferred by the police"),
    "other": _l("Other"),
}

CATEGORIES = {
    "family": _l("Marriage and family"),
    "neighbour": _l("Neighbour dispute"),
    "labour": _l("Labour dispute"),
    "traffic": _l("Road traffic accident"),
    "medical": _l("Medical dispute"),
    "property": _l("Property management dispute"),
    "consumer": _l("Consumer dispute"),
    "finance": _l("Financial loan"),
    "lending": _l("Private lending"),
    "construction": _l("Construction project"),
    "contract": _l("Contract dispute"),
    "ip": _l("Intellectual property"),
    "administrative": _l("Administrative dispute"),
    "land": _l("Land and expropriation"),
    "other": _l("Other dispute"),
}

ORGANIZATION_KINDS = {
    "people": _l("People's mediation committee"),
    "professional": _l("Industry or professional mediation organisation"),
    "court_invited": _l("Court-invited mediation organisation"),
    "administrative": _l("Administrative dispute mediation centre"),
    "lawyer": _l("Lawyer mediation studio"),
}

# Chinese names as SPEC 3.1 spells them, for the ledger import (which accepts either form).
CHANNEL_NAMES_ZH = {
    "walk_in": "来访",
    "hotline": "12345热线",
    "online": "网上申请",
    "grid": "网格上报",
    "court": "法院委派",
    "petition": "信访转办",
    "police": "公安移送",
    "other": "其他",
}

CATEGORY_NAMES_ZH = {
    "family": "婚姻家庭",
    "neighbour": "邻里纠纷",
    "labour": "劳动争议",
    "traffic": "道路交通事故",
    "medical": "医疗纠纷",
    "property": "物业纠纷",
    "consumer": "消费纠纷",
    "finance": "金融借款",
    "lending": "民间借贷",
    "construction": "建设工程",
    "contract": "合同纠纷",
    "ip": "知识产权",
    "administrative": "行政争议",
    "land": "土地及征迁",
    "other": "其他",
}
