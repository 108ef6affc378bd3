"""Weighted tweet length: a Python port of twitter-text's ``parseTweet``.

X does not count characters: it counts *weighted* UTF-16 code units after NFC
normalization, every URL costs a fixed 23, and (config v3) every emoji sequence
costs 2 however many code points it has.  The server rejects a post that is too
long with a 400, so the editor must count exactly as X does, on every keystroke.

This module is a faithful port of the reference implementation that X publishes,
``twitter-text`` 3.1.0 for JavaScript (github.com/twitter/twitter-text, Apache-2.0):
``parseTweet.js``, ``extractUrlsWithIndices.js``, ``lib/idna.js`` (with the
``punycode`` 1.4.1 package it depends on) and the ``regexp/*`` building blocks,
plus the emoji regular expression of ``twemoji-parser`` 11.0.2
(github.com/twitter/twemoji-parser, MIT), the version twitter-text 3.1.0 resolves to.
It passes every ``WeightedTweets*CounterTest`` case of twitter-text's
``conformance/validate.yml``.

How the port stays faithful:

* JavaScript strings are UTF-16 and its regular expressions (without the ``u``
  flag) see one code unit at a time, so texts are first turned into a ``str`` of
  UTF-16 code units (astral characters become their two surrogates).  Every regex
  then runs on the same units as in JavaScript and every index is already a UTF-16
  index, as the result fields require.
* JavaScript's case-insensitive matching never lets a non-ASCII character match an
  ASCII letter and folds by upper case; Python's differs for five characters (U+0130,
  U+0131, U+017F, U+212A, U+212B).  Those are swapped for stand-ins with the same
  JavaScript class membership before the URL regexes run (indices are unchanged;
  punycode lengths still use the real characters).  All 65,536 code units were
  checked against V8 for every character class and TLD letter.
* The TLD alternations (about 1,600 names) are compiled as tries.  Each published
  list is ordered so that a TLD comes before any TLD that is its prefix, so the
  trie's longest-first backtracking picks the same TLD the original alternation
  picks; the gTLD, ccTLD and punycode groups stay in their original order.

How it stays fast (about 0.1 ms for a typical 280-character text and under 1 ms for
pathological ones, where the plain URL regex backtracked for tens of milliseconds over
long dotted or unspaced runs): the URL regex is only tried at the positions where it
can match (computed exactly from the dots, see ``_domain_start_intervals``), the emoji
regex only at code units that can start an emoji, and runs of plain characters are
weighed at C speed.  Each shortcut finds the same matches as JavaScript's scan.  The
port was checked against the npm package itself (twitter-text 3.1.0 under Node 20) on
several hundred thousand generated texts, with the v2, v3 and a custom config.

Emoji coverage is that of twemoji-parser 11.0.2 (Emoji 11.0), like the npm package:
a ZWJ sequence introduced later (for example U+1F9D1 U+200D U+1F91D U+200D U+1F9D1,
people holding hands) counts as its parts, each emoji 2 and each joiner 1.

Known, deliberate differences (no conformance case covers them):

* ``punycode.toASCII`` throws a RangeError on arithmetic overflow (a single domain
  label of thousands of astral characters); JavaScript's ``parseTweet`` then throws.
  Python's punycode codec has no overflow, so such a label is simply too long and
  the text is not a URL.
* Case folding and NFC use the Unicode tables of the running Python (3.11: Unicode
  14), a JavaScript engine its own; they differ only for characters assigned since
  (e.g. U+A7DC, whose lower case is in the Latin range of URL paths).
* A config with a negative weight raises ``ValueError`` (JS would count with it).
* ``weighted_length`` is an ``int``: a custom config whose weights are not multiples
  of ``scale`` would give a fraction in JavaScript; it is floored here, as the Java
  twitter-text does.  ``valid`` and ``permillage`` use the exact value, as in JS.
"""

from __future__ import annotations

import math
import re
import sys
import unicodedata
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

__all__ = ["CONFIG_V2", "CONFIG_V3", "ParseResult", "parse_tweet"]

_RANGES: list[dict[str, int]] = [
    {"start": 0, "end": 4351, "weight": 100},
    {"start": 8192, "end": 8205, "weight": 100},
    {"start": 8208, "end": 8223, "weight": 100},
    {"start": 8242, "end": 8247, "weight": 100},
]

#: twitter-text ``config/v2.json``: weighted counting without the emoji discount.
CONFIG_V2: dict[str, Any] = {
    "version": 2,
    "maxWeightedTweetLength": 280,
    "scale": 100,
    "defaultWeight": 200,
    "transformedURLLength": 23,
    "ranges": [dict(r) for r in _RANGES],
}

#: twitter-text ``config/v3.json``: what X uses today (every emoji sequence weighs 2).
CONFIG_V3: dict[str, Any] = {
    "version": 3,
    "maxWeightedTweetLength": 280,
    "scale": 100,
    "defaultWeight": 200,
    "emojiParsingEnabled": True,
    "transformedURLLength": 23,
    "ranges": [dict(r) for r in _RANGES],
}


@dataclass(frozen=True)
class ParseResult:
    """The fields of JavaScript ``parseTweet``, plus whether X would refuse a character.

    Ranges are inclusive UTF-16 indices into the text as given (before NFC
    normalization), exactly as twitter-text reports them, so an editor can highlight
    the part that overflows.
    """

    weighted_length: int
    valid: bool
    permillage: int
    display_range_start: int
    display_range_end: int
    valid_range_start: int
    valid_range_end: int
    has_invalid_characters: bool


# ---------------------------------------------------------------------------
# Data: TLD lists of twitter-text 3.1.0 (js/src/regexp/validGTLD.js, validCCTLD.js,
# in their published order) and the twemoji-parser 11.0.2 emoji regex (lib/regex.js,
# verbatim but for escaping "\u00a9" and "\u00ae": it is written in UTF-16 code units,
# which is what it runs on here).
# ---------------------------------------------------------------------------

# Pipe-joined as in the JS source (one name per line would be 1,600 lines).
_GTLDS = (  # noqa: SIM905
    "삼성|닷컴|닷넷|香格里拉|餐厅|食品|飞利浦|電訊盈科|集团|通販|购物|谷歌|诺基亚|联通|网络|网站|网店|网址|组织机构|移动|珠宝|点看|游戏|淡马锡|机构|書籍|时尚|"
    "新闻|政府|政务|招聘|手表|手机|我爱你|慈善|微博|广东|工行|家電|娱乐|天主教|大拿|大众汽车|在线|嘉里大酒店|嘉里|商标|商店|商城|公益|公司|八卦|健康|信息|"
    "佛山|企业|中文网|中信|世界|ポイント|ファッション|セール|ストア|コム|グーグル|クラウド|みんな|คอม|संगठन|नेट|कॉम|همراه|موقع|موبايلي|"
    "كوم|كاثوليك|عرب|شبكة|بيتك|بازار|العليان|ارامكو|اتصالات|ابوظبي|קום|сайт|рус|орг|онлайн|"
    "москва|ком|католик|дети|zuerich|zone|zippo|zip|zero|zara|zappos|yun|youtube|you|yokohama|"
    "yoga|yodobashi|yandex|yamaxun|yahoo|yachts|xyz|xxx|xperia|xin|xihuan|xfinity|xerox|xbox|"
    "wtf|wtc|wow|world|works|work|woodside|wolterskluwer|wme|winners|wine|windows|win|"
    "williamhill|wiki|wien|whoswho|weir|weibo|wedding|wed|website|weber|webcam|weatherchannel|"
    "weather|watches|watch|warman|wanggou|wang|walter|walmart|wales|vuelos|voyage|voto|voting|"
    "vote|volvo|volkswagen|vodka|vlaanderen|vivo|viva|vistaprint|vista|vision|visa|virgin|vip|"
    "vin|villas|viking|vig|video|viajes|vet|versicherung|vermögensberatung|vermögensberater|"
    "verisign|ventures|vegas|vanguard|vana|vacations|ups|uol|uno|university|unicom|uconnect|"
    "ubs|ubank|tvs|tushu|tunes|tui|tube|trv|trust|travelersinsurance|travelers|travelchannel|"
    "travel|training|trading|trade|toys|toyota|town|tours|total|toshiba|toray|top|tools|tokyo|"
    "today|tmall|tkmaxx|tjx|tjmaxx|tirol|tires|tips|tiffany|tienda|tickets|tiaa|theatre|"
    "theater|thd|teva|tennis|temasek|telefonica|telecity|tel|technology|tech|team|tdk|tci|taxi|"
    "tax|tattoo|tatar|tatamotors|target|taobao|talk|taipei|tab|systems|symantec|sydney|swiss|"
    "swiftcover|swatch|suzuki|surgery|surf|support|supply|supplies|sucks|style|study|studio|"
    "stream|store|storage|stockholm|stcgroup|stc|statoil|statefarm|statebank|starhub|star|"
    "staples|stada|srt|srl|spreadbetting|spot|sport|spiegel|space|soy|sony|song|solutions|"
    "solar|sohu|software|softbank|social|soccer|sncf|smile|smart|sling|skype|sky|skin|ski|site|"
    "singles|sina|silk|shriram|showtime|show|shouji|shopping|shop|shoes|shiksha|shia|shell|"
    "shaw|sharp|shangrila|sfr|sexy|sex|sew|seven|ses|services|sener|select|seek|security|"
    "secure|seat|search|scot|scor|scjohnson|science|schwarz|schule|school|scholarships|schmidt|"
    "schaeffler|scb|sca|sbs|sbi|saxo|save|sas|sarl|sapo|sap|sanofi|sandvikcoromant|sandvik|"
    "samsung|samsclub|salon|sale|sakura|safety|safe|saarland|ryukyu|rwe|run|ruhr|rugby|rsvp|"
    "room|rogers|rodeo|rocks|rocher|rmit|rip|rio|ril|rightathome|ricoh|richardli|rich|rexroth|"
    "reviews|review|restaurant|rest|republican|report|repair|rentals|rent|ren|reliance|reit|"
    "reisen|reise|rehab|redumbrella|redstone|red|recipes|realty|realtor|realestate|read|raid|"
    "radio|racing|qvc|quest|quebec|qpon|pwc|pub|prudential|pru|protection|property|properties|"
    "promo|progressive|prof|productions|prod|pro|prime|press|praxi|pramerica|post|porn|politie|"
    "poker|pohl|pnc|plus|plumbing|playstation|play|place|pizza|pioneer|pink|ping|pin|pid|"
    "pictures|pictet|pics|piaget|physio|photos|photography|photo|phone|philips|phd|pharmacy|"
    "pfizer|pet|pccw|pay|passagens|party|parts|partners|pars|paris|panerai|panasonic|"
    "pamperedchef|page|ovh|ott|otsuka|osaka|origins|orientexpress|organic|org|orange|oracle|"
    "open|ooo|onyourside|online|onl|ong|one|omega|ollo|oldnavy|olayangroup|olayan|okinawa|"
    "office|off|observer|obi|nyc|ntt|nrw|nra|nowtv|nowruz|now|norton|northwesternmutual|nokia|"
    "nissay|nissan|ninja|nikon|nike|nico|nhk|ngo|nfl|nexus|nextdirect|next|news|newholland|new|"
    "neustar|network|netflix|netbank|net|nec|nba|navy|natura|nationwide|name|nagoya|nadex|nab|"
    "mutuelle|mutual|museum|mtr|mtpc|mtn|msd|movistar|movie|mov|motorcycles|moto|moscow|"
    "mortgage|mormon|mopar|montblanc|monster|money|monash|mom|moi|moe|moda|mobily|mobile|mobi|"
    "mma|mls|mlb|mitsubishi|mit|mint|mini|mil|microsoft|miami|metlife|merckmsd|meo|menu|men|"
    "memorial|meme|melbourne|meet|media|med|mckinsey|mcdonalds|mcd|mba|mattel|maserati|"
    "marshalls|marriott|markets|marketing|market|map|mango|management|man|makeup|maison|maif|"
    "madrid|macys|luxury|luxe|lupin|lundbeck|ltda|ltd|lplfinancial|lpl|love|lotto|lotte|london|"
    "lol|loft|locus|locker|loans|loan|llp|llc|lixil|living|live|lipsy|link|linde|lincoln|limo|"
    "limited|lilly|like|lighting|lifestyle|lifeinsurance|life|lidl|liaison|lgbt|lexus|lego|"
    "legal|lefrak|leclerc|lease|lds|lawyer|law|latrobe|latino|lat|lasalle|lanxess|landrover|"
    "land|lancome|lancia|lancaster|lamer|lamborghini|ladbrokes|lacaixa|kyoto|kuokgroup|kred|"
    "krd|kpn|kpmg|kosher|komatsu|koeln|kiwi|kitchen|kindle|kinder|kim|kia|kfh|kerryproperties|"
    "kerrylogistics|kerryhotels|kddi|kaufen|juniper|juegos|jprs|jpmorgan|joy|jot|joburg|jobs|"
    "jnj|jmp|jll|jlc|jio|jewelry|jetzt|jeep|jcp|jcb|java|jaguar|iwc|iveco|itv|itau|istanbul|"
    "ist|ismaili|iselect|irish|ipiranga|investments|intuit|international|intel|int|insure|"
    "insurance|institute|ink|ing|info|infiniti|industries|inc|immobilien|immo|imdb|imamat|"
    "ikano|iinet|ifm|ieee|icu|ice|icbc|ibm|hyundai|hyatt|hughes|htc|hsbc|how|house|hotmail|"
    "hotels|hoteles|hot|hosting|host|hospital|horse|honeywell|honda|homesense|homes|homegoods|"
    "homedepot|holiday|holdings|hockey|hkt|hiv|hitachi|hisamitsu|hiphop|hgtv|hermes|here|"
    "helsinki|help|healthcare|health|hdfcbank|hdfc|hbo|haus|hangout|hamburg|hair|guru|guitars|"
    "guide|guge|gucci|guardian|group|grocery|gripe|green|gratis|graphics|grainger|gov|got|gop|"
    "google|goog|goodyear|goodhands|goo|golf|goldpoint|gold|godaddy|gmx|gmo|gmbh|gmail|globo|"
    "global|gle|glass|glade|giving|gives|gifts|gift|ggee|george|genting|gent|gea|gdn|gbiz|gay|"
    "garden|gap|games|game|gallup|gallo|gallery|gal|fyi|futbol|furniture|fund|fun|fujixerox|"
    "fujitsu|ftr|frontier|frontdoor|frogans|frl|fresenius|free|fox|foundation|forum|forsale|"
    "forex|ford|football|foodnetwork|food|foo|fly|flsmidth|flowers|florist|flir|flights|flickr|"
    "fitness|fit|fishing|fish|firmdale|firestone|fire|financial|finance|final|film|fido|"
    "fidelity|fiat|ferrero|ferrari|feedback|fedex|fast|fashion|farmers|farm|fans|fan|family|"
    "faith|fairwinds|fail|fage|extraspace|express|exposed|expert|exchange|everbank|events|eus|"
    "eurovision|etisalat|esurance|estate|esq|erni|ericsson|equipment|epson|epost|enterprises|"
    "engineering|engineer|energy|emerck|email|education|edu|edeka|eco|eat|earth|dvr|dvag|"
    "durban|dupont|duns|dunlop|duck|dubai|dtv|drive|download|dot|doosan|domains|doha|dog|dodge|"
    "doctor|docs|dnp|diy|dish|discover|discount|directory|direct|digital|diet|diamonds|dhl|dev|"
    "design|desi|dentist|dental|democrat|delta|deloitte|dell|delivery|degree|deals|dealer|deal|"
    "dds|dclk|day|datsun|dating|date|data|dance|dad|dabur|cyou|cymru|cuisinella|csc|cruises|"
    "cruise|crs|crown|cricket|creditunion|creditcard|credit|cpa|courses|coupons|coupon|country|"
    "corsica|coop|cool|cookingchannel|cooking|contractors|contact|consulting|construction|"
    "condos|comsec|computer|compare|company|community|commbank|comcast|com|cologne|college|"
    "coffee|codes|coach|clubmed|club|cloud|clothing|clinique|clinic|click|cleaning|claims|"
    "cityeats|city|citic|citi|citadel|cisco|circle|cipriani|church|chrysler|chrome|christmas|"
    "chloe|chintai|cheap|chat|chase|charity|channel|chanel|cfd|cfa|cern|ceo|center|ceb|cbs|"
    "cbre|cbn|cba|catholic|catering|cat|casino|cash|caseih|case|casa|cartier|cars|careers|"
    "career|care|cards|caravan|car|capitalone|capital|capetown|canon|cancerresearch|camp|"
    "camera|cam|calvinklein|call|cal|cafe|cab|bzh|buzz|buy|business|builders|build|bugatti|"
    "budapest|brussels|brother|broker|broadway|bridgestone|bradesco|box|boutique|bot|boston|"
    "bostik|bosch|boots|booking|book|boo|bond|bom|bofa|boehringer|boats|bnpparibas|bnl|bmw|bms|"
    "blue|bloomberg|blog|blockbuster|blanco|blackfriday|black|biz|bio|bingo|bing|bike|bid|"
    "bible|bharti|bet|bestbuy|best|berlin|bentley|beer|beauty|beats|bcn|bcg|bbva|bbt|bbc|"
    "bayern|bauhaus|basketball|baseball|bargains|barefoot|barclays|barclaycard|barcelona|bar|"
    "bank|band|bananarepublic|banamex|baidu|baby|azure|axa|aws|avianca|autos|auto|author|"
    "auspost|audio|audible|audi|auction|attorney|athleta|associates|asia|asda|arte|art|arpa|"
    "army|archi|aramco|arab|aquarelle|apple|app|apartments|aol|anz|anquan|android|analytics|"
    "amsterdam|amica|amfam|amex|americanfamily|americanexpress|alstom|alsace|ally|allstate|"
    "allfinanz|alipay|alibaba|alfaromeo|akdn|airtel|airforce|airbus|aigo|aig|agency|agakhan|"
    "africa|afl|afamilycompany|aetna|aero|aeg|adult|ads|adac|actor|active|aco|accountants|"
    "accountant|accenture|academy|abudhabi|abogado|able|abc|abbvie|abbott|abb|abarth|aarp|aaa|"
    "onion"
).split("|")

_CCTLDS = (  # noqa: SIM905
    "한국|香港|澳門|新加坡|台灣|台湾|中國|中国|გე|ລາວ|ไทย|ලංකා|ഭാരതം|ಭಾರತ|భారత్|சிங்கப்பூர்|இலங்கை|இந்தியா|ଭାରତ|"
    "ભારત|ਭਾਰਤ|ভাৰত|ভারত|বাংলা|भारोत|भारतम्|भारत|ڀارت|پاکستان|موريتانيا|مليسيا|مصر|قطر|فلسطين|"
    "عمان|عراق|سورية|سودان|تونس|بھارت|بارت|ایران|امارات|المغرب|السعودية|الجزائر|البحرين|الاردن|"
    "հայ|қаз|укр|срб|рф|мон|мкд|ею|бел|бг|ευ|ελ|zw|zm|za|yt|ye|ws|wf|vu|vn|vi|vg|ve|vc|va|uz|"
    "uy|us|um|uk|ug|ua|tz|tw|tv|tt|tr|tp|to|tn|tm|tl|tk|tj|th|tg|tf|td|tc|sz|sy|sx|sv|su|st|ss|"
    "sr|so|sn|sm|sl|sk|sj|si|sh|sg|se|sd|sc|sb|sa|rw|ru|rs|ro|re|qa|py|pw|pt|ps|pr|pn|pm|pl|pk|"
    "ph|pg|pf|pe|pa|om|nz|nu|nr|np|no|nl|ni|ng|nf|ne|nc|na|mz|my|mx|mw|mv|mu|mt|ms|mr|mq|mp|mo|"
    "mn|mm|ml|mk|mh|mg|mf|me|md|mc|ma|ly|lv|lu|lt|ls|lr|lk|li|lc|lb|la|kz|ky|kw|kr|kp|kn|km|ki|"
    "kh|kg|ke|jp|jo|jm|je|it|is|ir|iq|io|in|im|il|ie|id|hu|ht|hr|hn|hm|hk|gy|gw|gu|gt|gs|gr|gq|"
    "gp|gn|gm|gl|gi|gh|gg|gf|ge|gd|gb|ga|fr|fo|fm|fk|fj|fi|eu|et|es|er|eh|eg|ee|ec|dz|do|dm|dk|"
    "dj|de|cz|cy|cx|cw|cv|cu|cr|co|cn|cm|cl|ck|ci|ch|cg|cf|cd|cc|ca|bz|by|bw|bv|bt|bs|br|bq|bo|"
    "bn|bm|bl|bj|bi|bh|bg|bf|be|bd|bb|ba|az|ax|aw|au|at|as|ar|aq|ao|an|am|al|ai|ag|af|ae|ad|ac"
).split("|")

_EMOJI_SOURCE = (
    r"(?:\ud83d[\udc68\udc69])(?:\ud83c[\udffb-\udfff])?\u200d(?:\u2695\ufe0f|\u2696\ufe0f|"
    r"\u2708\ufe0f|\ud83c[\udf3e\udf73\udf93\udfa4\udfa8\udfeb\udfed]|"
    r"\ud83d[\udcbb\udcbc\udd27\udd2c\ude80\ude92]|\ud83e[\uddb0-\uddb3])|"
    r"(?:\ud83c[\udfcb\udfcc]|\ud83d[\udd74\udd75]|\u26f9)((?:\ud83c[\udffb-\udfff]|"
    r"\ufe0f)\u200d[\u2640\u2642]\ufe0f)|(?:\ud83c[\udfc3\udfc4\udfca]|"
    r"\ud83d[\udc6e\udc71\udc73\udc77\udc81\udc82\udc86\udc87\ude45-\ude47\ude4b\ude4d\ude4e"
    r"\udea3\udeb4-\udeb6]|"
    r"\ud83e[\udd26\udd35\udd37-\udd39\udd3d\udd3e\uddb8\uddb9\uddd6-\udddd])(?:\ud83c[\udffb-"
    r"\udfff])?\u200d[\u2640\u2642]\ufe0f|"
    r"(?:\ud83d\udc68\u200d\u2764\ufe0f\u200d\ud83d\udc8b\u200d\ud83d\udc68|"
    r"\ud83d\udc68\u200d\ud83d\udc68\u200d\ud83d\udc66\u200d\ud83d\udc66|"
    r"\ud83d\udc68\u200d\ud83d\udc68\u200d\ud83d\udc67\u200d\ud83d[\udc66\udc67]|"
    r"\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc66\u200d\ud83d\udc66|"
    r"\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67\u200d\ud83d[\udc66\udc67]|"
    r"\ud83d\udc69\u200d\u2764\ufe0f\u200d\ud83d\udc8b\u200d\ud83d[\udc68\udc69]|"
    r"\ud83d\udc69\u200d\ud83d\udc69\u200d\ud83d\udc66\u200d\ud83d\udc66|"
    r"\ud83d\udc69\u200d\ud83d\udc69\u200d\ud83d\udc67\u200d\ud83d[\udc66\udc67]|"
    r"\ud83d\udc68\u200d\u2764\ufe0f\u200d\ud83d\udc68|"
    r"\ud83d\udc68\u200d\ud83d\udc66\u200d\ud83d\udc66|"
    r"\ud83d\udc68\u200d\ud83d\udc67\u200d\ud83d[\udc66\udc67]|"
    r"\ud83d\udc68\u200d\ud83d\udc68\u200d\ud83d[\udc66\udc67]|"
    r"\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d[\udc66\udc67]|"
    r"\ud83d\udc69\u200d\u2764\ufe0f\u200d\ud83d[\udc68\udc69]|"
    r"\ud83d\udc69\u200d\ud83d\udc66\u200d\ud83d\udc66|"
    r"\ud83d\udc69\u200d\ud83d\udc67\u200d\ud83d[\udc66\udc67]|"
    r"\ud83d\udc69\u200d\ud83d\udc69\u200d\ud83d[\udc66\udc67]|"
    r"\ud83c\udff3\ufe0f\u200d\ud83c\udf08|\ud83c\udff4\u200d\u2620\ufe0f|"
    r"\ud83d\udc41\u200d\ud83d\udde8|\ud83d\udc68\u200d\ud83d[\udc66\udc67]|"
    r"\ud83d\udc69\u200d\ud83d[\udc66\udc67]|\ud83d\udc6f\u200d\u2640\ufe0f|"
    r"\ud83d\udc6f\u200d\u2642\ufe0f|\ud83e\udd3c\u200d\u2640\ufe0f|"
    r"\ud83e\udd3c\u200d\u2642\ufe0f|\ud83e\uddde\u200d\u2640\ufe0f|"
    r"\ud83e\uddde\u200d\u2642\ufe0f|\ud83e\udddf\u200d\u2640\ufe0f|"
    r"\ud83e\udddf\u200d\u2642\ufe0f)|[#*0-9]\ufe0f?\u20e3|"
    r"(?:[\u00a9\u00ae\u2122\u265f]\ufe0f)|"
    r"(?:\ud83c[\udc04\udd70\udd71\udd7e\udd7f\ude02\ude1a\ude2f\ude37\udf21\udf24-\udf2c\udf36"
    r"\udf7d\udf96\udf97\udf99-\udf9b\udf9e\udf9f\udfcd\udfce\udfd4-\udfdf\udff3\udff5\udff7]|"
    r"\ud83d[\udc3f\udc41\udcfd\udd49\udd4a\udd6f\udd70\udd73\udd76-\udd79\udd87\udd8a-\udd8d"
    r"\udda5\udda8\uddb1\uddb2\uddbc\uddc2-\uddc4\uddd1-\uddd3\udddc-\uddde\udde1\udde3\udde8"
    r"\uddef\uddf3\uddfa\udecb\udecd-\udecf\udee0-\udee5\udee9\udef0\udef3]|"
    r"[\u203c\u2049\u2139\u2194-\u2199\u21a9\u21aa\u231a\u231b\u2328\u23cf\u23ed-\u23ef\u23f1"
    r"\u23f2\u23f8-\u23fa\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe\u2600-\u2604\u260e\u2611"
    r"\u2614\u2615\u2618\u2620\u2622\u2623\u2626\u262a\u262e\u262f\u2638-\u263a\u2640\u2642"
    r"\u2648-\u2653\u2660\u2663\u2665\u2666\u2668\u267b\u267f\u2692-\u2697\u2699\u269b\u269c"
    r"\u26a0\u26a1\u26aa\u26ab\u26b0\u26b1\u26bd\u26be\u26c4\u26c5\u26c8\u26cf\u26d1\u26d3\u26d4"
    r"\u26e9\u26ea\u26f0-\u26f5\u26f8\u26fa\u26fd\u2702\u2708\u2709\u270f\u2712\u2714\u2716\u271d"
    r"\u2721\u2733\u2734\u2744\u2747\u2757\u2763\u2764\u27a1\u2934\u2935\u2b05-\u2b07\u2b1b\u2b1c"
    r"\u2b50\u2b55\u3030\u303d\u3297\u3299])(?:\ufe0f|"
    r"(?!\ufe0e))|(?:(?:\ud83c[\udfcb\udfcc]|\ud83d[\udd74\udd75\udd90]|"
    r"[\u261d\u26f7\u26f9\u270c\u270d])(?:\ufe0f|(?!\ufe0e))|"
    r"(?:\ud83c[\udf85\udfc2-\udfc4\udfc7\udfca]|"
    r"\ud83d[\udc42\udc43\udc46-\udc50\udc66-\udc69\udc6e\udc70-\udc78\udc7c\udc81-\udc83\udc85-"
    r"\udc87\udcaa\udd7a\udd95\udd96\ude45-\ude47\ude4b-\ude4f\udea3\udeb4-\udeb6\udec0\udecc]|"
    r"\ud83e[\udd18-\udd1c\udd1e\udd1f\udd26\udd30-\udd39\udd3d\udd3e\uddb5\uddb6\uddb8\uddb9"
    r"\uddd1-\udddd]|"
    r"[\u270a\u270b]))(?:\ud83c[\udffb-\udfff])?|"
    r"(?:\ud83c\udff4\udb40\udc67\udb40\udc62\udb40\udc65\udb40\udc6e\udb40\udc67\udb40\udc7f|"
    r"\ud83c\udff4\udb40\udc67\udb40\udc62\udb40\udc73\udb40\udc63\udb40\udc74\udb40\udc7f|"
    r"\ud83c\udff4\udb40\udc67\udb40\udc62\udb40\udc77\udb40\udc6c\udb40\udc73\udb40\udc7f|"
    r"\ud83c\udde6\ud83c[\udde8-\uddec\uddee\uddf1\uddf2\uddf4\uddf6-\uddfa\uddfc\uddfd\uddff]|"
    r"\ud83c\udde7\ud83c[\udde6\udde7\udde9-\uddef\uddf1-\uddf4\uddf6-\uddf9\uddfb\uddfc\uddfe"
    r"\uddff]|"
    r"\ud83c\udde8\ud83c[\udde6\udde8\udde9\uddeb-\uddee\uddf0-\uddf5\uddf7\uddfa-\uddff]|"
    r"\ud83c\udde9\ud83c[\uddea\uddec\uddef\uddf0\uddf2\uddf4\uddff]|"
    r"\ud83c\uddea\ud83c[\udde6\udde8\uddea\uddec\udded\uddf7-\uddfa]|"
    r"\ud83c\uddeb\ud83c[\uddee-\uddf0\uddf2\uddf4\uddf7]|"
    r"\ud83c\uddec\ud83c[\udde6\udde7\udde9-\uddee\uddf1-\uddf3\uddf5-\uddfa\uddfc\uddfe]|"
    r"\ud83c\udded\ud83c[\uddf0\uddf2\uddf3\uddf7\uddf9\uddfa]|"
    r"\ud83c\uddee\ud83c[\udde8-\uddea\uddf1-\uddf4\uddf6-\uddf9]|"
    r"\ud83c\uddef\ud83c[\uddea\uddf2\uddf4\uddf5]|"
    r"\ud83c\uddf0\ud83c[\uddea\uddec-\uddee\uddf2\uddf3\uddf5\uddf7\uddfc\uddfe\uddff]|"
    r"\ud83c\uddf1\ud83c[\udde6-\udde8\uddee\uddf0\uddf7-\uddfb\uddfe]|"
    r"\ud83c\uddf2\ud83c[\udde6\udde8-\udded\uddf0-\uddff]|"
    r"\ud83c\uddf3\ud83c[\udde6\udde8\uddea-\uddec\uddee\uddf1\uddf4\uddf5\uddf7\uddfa\uddff]|"
    r"\ud83c\uddf4\ud83c\uddf2|"
    r"\ud83c\uddf5\ud83c[\udde6\uddea-\udded\uddf0-\uddf3\uddf7-\uddf9\uddfc\uddfe]|"
    r"\ud83c\uddf6\ud83c\udde6|\ud83c\uddf7\ud83c[\uddea\uddf4\uddf8\uddfa\uddfc]|"
    r"\ud83c\uddf8\ud83c[\udde6-\uddea\uddec-\uddf4\uddf7-\uddf9\uddfb\uddfd-\uddff]|"
    r"\ud83c\uddf9\ud83c[\udde6\udde8\udde9\uddeb-\udded\uddef-\uddf4\uddf7\uddf9\uddfb\uddfc"
    r"\uddff]|"
    r"\ud83c\uddfa\ud83c[\udde6\uddec\uddf2\uddf3\uddf8\uddfe\uddff]|"
    r"\ud83c\uddfb\ud83c[\udde6\udde8\uddea\uddec\uddee\uddf3\uddfa]|"
    r"\ud83c\uddfc\ud83c[\uddeb\uddf8]|\ud83c\uddfd\ud83c\uddf0|"
    r"\ud83c\uddfe\ud83c[\uddea\uddf9]|\ud83c\uddff\ud83c[\udde6\uddf2\uddfc]|"
    r"\ud83c[\udccf\udd8e\udd91-\udd9a\udde6-\uddff\ude01\ude32-\ude36\ude38-\ude3a\ude50\ude51"
    r"\udf00-\udf20\udf2d-\udf35\udf37-\udf7c\udf7e-\udf84\udf86-\udf93\udfa0-\udfc1\udfc5\udfc6"
    r"\udfc8\udfc9\udfcf-\udfd3\udfe0-\udff0\udff4\udff8-\udfff]|"
    r"\ud83d[\udc00-\udc3e\udc40\udc44\udc45\udc51-\udc65\udc6a-\udc6d\udc6f\udc79-\udc7b\udc7d-"
    r"\udc80\udc84\udc88-\udca9\udcab-\udcfc\udcff-\udd3d\udd4b-\udd4e\udd50-\udd67\udda4\uddfb-"
    r"\ude44\ude48-\ude4a\ude80-\udea2\udea4-\udeb3\udeb7-\udebf\udec1-\udec5\uded0-\uded2\udeeb"
    r"\udeec\udef4-\udef9]|"
    r"\ud83e[\udd10-\udd17\udd1d\udd20-\udd25\udd27-\udd2f\udd3a\udd3c\udd40-\udd45\udd47-\udd70"
    r"\udd73-\udd76\udd7a\udd7c-\udda2\uddb4\uddb7\uddc0-\uddc2\uddd0\uddde-\uddff]|"
    r"[\u23e9-\u23ec\u23f0\u23f3\u267e\u26ce\u2705\u2728\u274c\u274e\u2753-\u2755\u2795-\u2797"
    r"\u27b0\u27bf\ue50a])|"
    r"\ufe0f"
)


# ---------------------------------------------------------------------------
# Regular expressions, composed by text substitution exactly as twitter-text's
# ``regexSupplant`` does (js/src/regexp/*.js), so alternations nest the same way.
# ---------------------------------------------------------------------------


def _trie(words: list[str]) -> str:
    """An alternation over ``words`` as a trie, so a match costs one branch per character.

    Continuations are tried before a word may end (greedy ``?``), which reproduces the
    original first-match order because every list puts a word before its prefixes.
    """
    root: dict[str, dict] = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in node.items() if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return "(?:" + body + ")?" if "" in node else body

    return "(?:" + emit(root) + ")"


_PUNCT = r"\!'#%&'\(\)*\+,\\\-\.\/:;<=>\?@\[\]\^_{|}~\$"
_SPACES_GROUP = r"\x09-\x0D\x20\x85\xA0\u1680\u180E\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
_INVALID_CHARS_GROUP = r"\uFFFE\uFEFF\uFFFF"
_DIRECTIONAL_MARKERS_GROUP = r"\u202A-\u202E\u061C\u200E\u200F\u2066\u2067\u2068\u2069"
_LATIN_ACCENT_CHARS = (
    r"\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B\u0263"
    r"\u0268\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF"
)
_CYRILLIC_LETTERS_AND_MARKS = r"\u0400-\u04FF"

_VALID_DOMAIN_CHARS = (
    f"[^{_PUNCT}{_SPACES_GROUP}{_INVALID_CHARS_GROUP}{_DIRECTIONAL_MARKERS_GROUP}]"
)
_VALID_SUBDOMAIN = (
    f"(?:(?:{_VALID_DOMAIN_CHARS}(?:[_-]|{_VALID_DOMAIN_CHARS})*)?{_VALID_DOMAIN_CHARS}\\.)"
)
_VALID_DOMAIN_NAME = (
    f"(?:(?:{_VALID_DOMAIN_CHARS}(?:-|{_VALID_DOMAIN_CHARS})*)?{_VALID_DOMAIN_CHARS}\\.)"
)
# JavaScript's ``$`` (no ``m`` flag) is the end of input only: ``\Z`` in Python.
_TLD_END = r"(?=[^0-9a-zA-Z@+-]|\Z)"
_VALID_GTLD = f"(?:{_trie(_GTLDS)}{_TLD_END})"
_VALID_CCTLD = f"(?:{_trie(_CCTLDS)}{_TLD_END})"
_VALID_PUNYCODE = r"(?:xn--[\-0-9a-z]+)"
_VALID_DOMAIN = (
    f"(?:{_VALID_SUBDOMAIN}*{_VALID_DOMAIN_NAME}(?:{_VALID_GTLD}|{_VALID_CCTLD}|{_VALID_PUNYCODE}))"
)
_VALID_URL_PRECEDING_CHARS = (
    f"(?:[^A-Za-z0-9@\\uFF20$#\\uFF03{_INVALID_CHARS_GROUP}]|[{_DIRECTIONAL_MARKERS_GROUP}]|^)"
)
_VALID_PORT_NUMBER = r"[0-9]+"
_VALID_GENERAL_URL_PATH_CHARS = (
    f"[a-z{_CYRILLIC_LETTERS_AND_MARKS}0-9!\\*';:=\\+,\\.\\$\\/%#\\[\\]\\-\\u2013_~@\\|&"
    f"{_LATIN_ACCENT_CHARS}]"
)
_VALID_URL_BALANCED_PARENS = (
    f"\\((?:{_VALID_GENERAL_URL_PATH_CHARS}+|(?:{_VALID_GENERAL_URL_PATH_CHARS}*"
    f"\\({_VALID_GENERAL_URL_PATH_CHARS}+\\){_VALID_GENERAL_URL_PATH_CHARS}*))\\)"
)
# Not wrapped in a group, as in the original: its ``|`` splits the path alternative.
_VALID_URL_PATH_ENDING_CHARS = (
    f"[\\+\\-a-z{_CYRILLIC_LETTERS_AND_MARKS}0-9=_#\\/{_LATIN_ACCENT_CHARS}]"
    f"|(?:{_VALID_URL_BALANCED_PARENS})"
)
_VALID_URL_PATH = (
    f"(?:(?:{_VALID_GENERAL_URL_PATH_CHARS}*"
    f"(?:{_VALID_URL_BALANCED_PARENS}{_VALID_GENERAL_URL_PATH_CHARS}*)*"
    f"{_VALID_URL_PATH_ENDING_CHARS})|(?:@{_VALID_GENERAL_URL_PATH_CHARS}+/))"
)
_VALID_URL_QUERY_CHARS = r"[a-z0-9!?\*'@\(\);:&=\+\$\/%#\[\]\-_\.,~|]"
_VALID_URL_QUERY_ENDING_CHARS = r"[a-z0-9\-_&=#\/]"


class _Lazy:
    """A pattern compiled where it is first used. The TLD and emoji alternations take
    about 70 ms to compile: the command line and the window's first frame need not
    pay that before anyone counts a character (see :func:`warm_up`)."""

    __slots__ = ("_args", "_compiled")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._args = (pattern, flags)
        self._compiled: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(*self._args)
        return getattr(compiled, name)


def warm_up() -> None:
    """Compile the large patterns now (e.g. on a worker, once the window is shown)."""
    for lazy in (_EXTRACT_URL, _VALID_ASCII_DOMAIN, _TLD_AT, _EMOJI):
        lazy.pattern  # noqa: B018 - the attribute access compiles it


# Groups: 1 whole match, 2 preceding char, 3 URL, 4 protocol, 5 domain, 6 port,
# 7 path, 8 query (js/src/regexp/extractUrl.js).
_EXTRACT_URL = _Lazy(
    f"(({_VALID_URL_PRECEDING_CHARS})((https?:\\/\\/)?({_VALID_DOMAIN})"
    f"(?::({_VALID_PORT_NUMBER}))?(\\/{_VALID_URL_PATH}*)?"
    f"(\\?{_VALID_URL_QUERY_CHARS}*{_VALID_URL_QUERY_ENDING_CHARS})?))",
    re.IGNORECASE,
)
_VALID_ASCII_DOMAIN = _Lazy(
    f"(?:(?:[\\-a-z0-9{_LATIN_ACCENT_CHARS}]+)\\.)+"
    f"(?:{_VALID_GTLD}|{_VALID_CCTLD}|{_VALID_PUNYCODE})",
    re.IGNORECASE,
)
_VALID_TCO_URL = re.compile(
    f"^https?:\\/\\/t\\.co\\/([a-z0-9]+)"
    f"(?:\\?{_VALID_URL_QUERY_CHARS}*{_VALID_URL_QUERY_ENDING_CHARS})?",
    re.IGNORECASE,
)
_INVALID_URL_WITHOUT_PROTOCOL_PRECEDING_CHARS = re.compile(r"[-_.\/]\Z")
_INVALID_CHARS = re.compile(f"[{_INVALID_CHARS_GROUP}]")
_EMOJI = _Lazy(_EMOJI_SOURCE)
# Every code unit the emoji regex can start with (its FIRST set; checked by a test).
_EMOJI_START = re.compile(
    r"[#*0-9\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u2199\u21a9\u21aa\u231a\u231b"
    r"\u2328\u23cf\u23e9-\u23f3\u23f8-\u23fa\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe"
    r"\u2600-\u2604\u260e\u2611\u2614\u2615\u2618\u261d\u2620\u2622\u2623\u2626\u262a"
    r"\u262e\u262f\u2638-\u263a\u2640\u2642\u2648-\u2653\u265f\u2660\u2663\u2665\u2666"
    r"\u2668\u267b\u267e\u267f\u2692-\u2697\u2699\u269b\u269c\u26a0\u26a1\u26aa\u26ab"
    r"\u26b0\u26b1\u26bd\u26be\u26c4\u26c5\u26c8\u26ce\u26cf\u26d1\u26d3\u26d4\u26e9"
    r"\u26ea\u26f0-\u26f5\u26f7-\u26fa\u26fd\u2702\u2705\u2708-\u270d\u270f\u2712\u2714"
    r"\u2716\u271d\u2721\u2728\u2733\u2734\u2744\u2747\u274c\u274e\u2753-\u2755\u2757"
    r"\u2763\u2764\u2795-\u2797\u27a1\u27b0\u27bf\u2934\u2935\u2b05-\u2b07\u2b1b\u2b1c"
    r"\u2b50\u2b55\u3030\u303d\u3297\u3299\ud83c-\ud83e\ue50a\ufe0f]"
)

# Helpers of ``_domain_start_intervals`` and ``_url_entities``; none involves a letter,
# so case folding is irrelevant except where IGNORECASE is given, as in the originals.
_NOT_DOMAIN_CHAR = re.compile(
    f"[{_PUNCT}{_SPACES_GROUP}{_INVALID_CHARS_GROUP}{_DIRECTIONAL_MARKERS_GROUP}]"
)
# Within one dot-free segment, up to its last char that no label may contain.
_LAST_LABEL_BREAK = re.compile(f"[^.]*(?![_-]){_NOT_DOMAIN_CHAR.pattern}")
_DOT = re.compile(r"\.")
_TLD_AT = _Lazy(f"{_VALID_GTLD}|{_VALID_CCTLD}|{_VALID_PUNYCODE}", re.IGNORECASE)
_PROTOCOL = re.compile(r"https?:\/\/", re.IGNORECASE)
# A valid preceding char (first two alternatives of validUrlPrecedingChars) + domain char.
_URL_START = re.compile(
    f"(?:[^A-Za-z0-9@\\uFF20$#\\uFF03{_INVALID_CHARS_GROUP}]|[{_DIRECTIONAL_MARKERS_GROUP}])"
    f"(?={_VALID_DOMAIN_CHARS})",
    re.IGNORECASE,
)

# The characters Python's IGNORECASE folds differently from JavaScript's (which never
# maps a non-ASCII character onto ASCII and folds by upper case): U+0130, U+0131,
# U+017F and U+212A match ASCII letters, U+212B (Angstrom sign) matches "å".  Each is
# replaced by a character with the same JavaScript class membership in every URL regex.
_CASE_TRAPS = re.compile(r"[\u0130\u0131\u017F\u212A\u212B]")
_CASE_TRAP_STAND_INS = str.maketrans(
    {
        "\u0130": "\u0180",
        "\u0131": "\u0180",
        "\u017f": "\u0180",
        "\u212a": "\u2129",
        "\u212b": "\u2129",
    }
)

_ASTRAL = re.compile(r"[\U00010000-\U0010ffff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_HIGH_SURROGATE = re.compile(r"[\ud800-\udbff]")
# punycode 1.4.1: labels are split on these, and encoded when not printable ASCII.
_PUNYCODE_SEPARATORS = re.compile(r"[\x2E\u3002\uFF0E\uFF61]")
_PUNYCODE_NEEDS_ENCODING = re.compile(r"[^\x20-\x7E]")

_UTF16_NATIVE = "utf-16-le" if sys.byteorder == "little" else "utf-16-be"
_DEFAULT_PROTOCOL = "https://"
_MAX_URL_LENGTH = 4096
_MAX_TCO_SLUG_LENGTH = 40
_MAX_DOMAIN_LABEL_LENGTH = 63


# ---------------------------------------------------------------------------
# UTF-16 helpers
# ---------------------------------------------------------------------------


def _surrogates(char: str) -> str:
    cp = ord(char) - 0x10000
    return chr(0xD800 + (cp >> 10)) + chr(0xDC00 + (cp & 0x3FF))


def _split_astral(match: re.Match[str]) -> str:
    return _surrogates(match.group())


def _to_utf16_units(text: str) -> str:
    """The text as JavaScript sees it: one ``str`` element per UTF-16 code unit.

    Replacing each distinct astral character with ``str.replace`` is much faster than a
    callback per occurrence (emoji repeat); past a few distinct ones, ``sub`` finishes.
    """
    if text.isascii():
        return text
    m = _ASTRAL.search(text)
    distinct = 0
    while m is not None:
        distinct += 1
        if distinct > 16:
            return _ASTRAL.sub(_split_astral, text)
        char = m.group()
        text = text.replace(char, _surrogates(char))
        m = _ASTRAL.search(text, m.start())
    return text


def _join_surrogates(units: str) -> str:
    """Back to code points: surrogate pairs become one character, lone ones stay."""
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _utf16_length(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


# ---------------------------------------------------------------------------
# URL extraction (extractUrlsWithIndices.js, lib/idna.js)
# ---------------------------------------------------------------------------


def _punycode_label_length(label: str) -> int:
    """Length of ``punycode.toASCII(label)`` (punycode 1.4.1), in characters."""
    parts = _PUNYCODE_SEPARATORS.split(label)
    # toASCII also keeps anything before an "@" as is, but "@" is never a domain char.
    length = len(parts) - 1
    for part in parts:
        if _PUNYCODE_NEEDS_ENCODING.search(part):
            length += 4 + len(_join_surrogates(part).encode("punycode"))
        else:
            length += len(part)
    return length


def _is_valid_url(url: str, protocol: str, domain: str, real_domain: str) -> bool:
    """``isValidUrl``: every DNS label 1..63 chars once punycoded, URL at most 4096.

    ``idna.toAscii`` returns the domain unchanged, so only the label check matters;
    the length rule counts the protocol twice when the URL has one, as JS does.
    """
    if domain[:4] == "xn--" and not _VALID_ASCII_DOMAIN.search(domain):
        return False
    for label in real_domain.split("."):
        length = _punycode_label_length(label)
        if length < 1 or length > _MAX_DOMAIN_LABEL_LENGTH:
            return False
    return len(protocol) + len(url) <= _MAX_URL_LENGTH


def _domain_start_intervals(text: str) -> list[tuple[int, int]]:
    """Where a domain (``validDomain``) can start: ``(lo, dot)`` pairs, in text order.

    A domain can start at ``s`` if and only if ``lo < s < dot`` for one of the pairs and
    ``text[s]`` is a domain char.  This is exact: a domain is labels separated by
    single dots and a label is everything up to the next dot, so whether one can start
    at ``s`` depends only on the chars up to that dot and on what can follow the dot.
    Trying ``_EXTRACT_URL`` only there spares the backtracking it does at every
    position of long dotted or unspaced (CJK, Thai) runs, which is quadratic.
    """
    dots = [m.start() for m in _DOT.finditer(text)]
    intervals: list[tuple[int, int]] = []
    # good: a domain can start right after the dot to the right (first label char).
    good = False
    for k in range(len(dots) - 1, -1, -1):
        dot = dots[k]
        prev = dots[k - 1] if k else -1
        lo = None
        if dot > prev + 1 and not _NOT_DOMAIN_CHAR.match(text, dot - 1):
            # Labels may not contain a char outside [D_-] (validSubdomain) ...
            last_break = _LAST_LABEL_BREAK.match(text, prev + 1, dot)
            lo = last_break.end() - 1 if last_break is not None else prev
            if not good:
                # ... nor "_" when it is the last label before the TLD (validDomainName).
                lo = (
                    max(lo, text.rfind("_", prev + 1, dot))
                    if _TLD_AT.match(text, dot + 1)
                    else None
                )
        if lo is not None:
            intervals.append((lo, dot))
        good = lo == prev and not _NOT_DOMAIN_CHAR.match(text, prev + 1)
    intervals.reverse()
    return intervals


def _url_entities(units: str) -> dict[int, int]:
    """Start index -> ``url.length`` of every URL entity, as ``parseTweet`` uses them.

    ``units`` is the normalized text in UTF-16 code units.  Like JavaScript, a later
    entity with the same start replaces an earlier one, and a URL without protocol
    whose domain has a non-ASCII prefix starts at its ASCII part.  ``_EXTRACT_URL``
    is only tried where it can match (see ``_domain_start_intervals``), which finds the
    same leftmost matches as JavaScript's ``exec`` loop.
    """
    if "." not in units:
        return {}
    text = units.translate(_CASE_TRAP_STAND_INS) if _CASE_TRAPS.search(units) else units
    intervals = _domain_start_intervals(text)
    if not intervals:
        return {}
    starts = [lo for lo, _ in intervals]
    dots = [dot for _, dot in intervals]

    def domain_can_start(s: int) -> bool:
        k = bisect_left(dots, s)
        return k < len(dots) and starts[k] < s < dots[k] and not _NOT_DOMAIN_CHAR.match(text, s)

    # Protocols followed by a possible domain: the regex can match one char before.
    protocol_starts = [
        max(m.start() - 1, 0) for m in _PROTOCOL.finditer(text) if domain_can_start(m.end())
    ]
    entities: list[list[int]] = []
    pos = 0
    k = 0
    n_protocols = len(protocol_starts)
    next_protocol = 0
    while True:
        candidate = -1
        while k < len(intervals):
            lo, dot = intervals[k]
            if lo < 0 and pos == 0 and not _NOT_DOMAIN_CHAR.match(text, 0):
                candidate = 0  # "^" then a domain at 0
                break
            start_match = _URL_START.search(text, max(pos, lo, 0), dot)
            if start_match is not None:
                candidate = start_match.start()
                break
            k += 1
        while next_protocol < n_protocols and protocol_starts[next_protocol] < pos:
            next_protocol += 1
        if next_protocol < n_protocols and (
            candidate < 0 or protocol_starts[next_protocol] < candidate
        ):
            candidate = protocol_starts[next_protocol]
        if candidate < 0:
            break
        m = _EXTRACT_URL.match(text, candidate)
        if m is None:
            pos = candidate + 1
            continue
        pos = m.end()
        before, url, protocol, domain, path = m.group(2, 3, 4, 5, 7)
        start = m.start(3)
        real_domain = units[m.start(5) : m.end(5)]
        if not _is_valid_url(url, protocol or _DEFAULT_PROTOCOL, domain, real_domain):
            continue
        if not protocol:
            if _INVALID_URL_WITHOUT_PROTOCOL_PRECEDING_CHARS.search(before):
                continue
            last: list[int] | None = None
            ascii_end = 0
            for ascii_match in _VALID_ASCII_DOMAIN.finditer(domain):
                ascii_domain = ascii_match.group()
                ascii_start = domain.find(ascii_domain, ascii_end)
                ascii_end = ascii_start + len(ascii_domain)
                last = [start + ascii_start, len(ascii_domain)]
                entities.append(last)
            if last is None:
                continue
            if path:
                # lastUrl.url = url.replace(domain, lastUrl.url)
                last[1] = len(url) - len(domain) + last[1]
        else:
            tco = _VALID_TCO_URL.match(url)
            if tco is not None:
                if len(tco.group(1)) > _MAX_TCO_SLUG_LENGTH:
                    continue
                url = tco.group()
            entities.append([start, len(url)])
    return {entity_start: length for entity_start, length in entities}


def _emoji_entities(units: str) -> dict[int, int]:
    """Start index -> length of every twemoji entity (``twemoji-parser``'s ``parse``).

    The emoji regex is only tried where its first code unit can match, which finds the
    same leftmost matches as a plain scan at a fraction of the cost.
    """
    found: dict[int, int] = {}
    pos = 0
    while True:
        first = _EMOJI_START.search(units, pos)
        if first is None:
            return found
        start = first.start()
        m = _EMOJI.match(units, start)
        if m is None:
            pos = start + 1
        else:
            pos = m.end()
            found[start] = pos - start


# ---------------------------------------------------------------------------
# Weights
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Weights:
    """Weight of every UTF-16 code unit (``getCharacterWeight``) for one config."""

    table: array[int]
    heaviest: int
    ascii: int | None  # the weight of every ASCII unit, when they all weigh the same


_weights_cache: dict[tuple[Any, ...], _Weights] = {}


def _weights(default_weight: int, ranges: list[Mapping[str, int]]) -> _Weights:
    """The weights of a config, built once; the first range containing a unit wins."""
    key = (default_weight, tuple((r["start"], r["end"], r["weight"]) for r in ranges))
    weights = _weights_cache.get(key)
    if weights is None:
        if default_weight < 0 or any(r["weight"] < 0 for r in ranges):
            # The running total must never fall, or ``_weigh``'s shortcuts would be wrong.
            raise ValueError("twitter-text config weights must not be negative")
        table = array("q", [default_weight]) * 0x10000
        for r in reversed(ranges):
            lo, hi = max(r["start"], 0), min(r["end"], 0xFFFF)
            if lo <= hi:
                table[lo : hi + 1] = array("q", [r["weight"]]) * (hi - lo + 1)
        ascii_weights = set(table[:0x80])
        weights = _Weights(
            table=table,
            heaviest=max(table),
            ascii=ascii_weights.pop() if len(ascii_weights) == 1 else None,
        )
        _weights_cache[key] = weights
    return weights


def _code_units(units: str) -> array[int]:
    """The UTF-16 code units of ``units`` (one per element already) as integers."""
    return array("H", units.encode(_UTF16_NATIVE, "surrogatepass"))


def _weigh(
    units: str,
    entities: dict[int, tuple[int, int]],
    weights: _Weights,
    limit: int,
) -> tuple[int, bool, int]:
    """The ``parseTweet`` loop: (total weight, no invalid char, last index within limit).

    The loop steps over a URL or emoji entity at once, a surrogate pair at once (weighed
    by its low surrogate, as JS's ``charAt`` after the pair check does) and any other
    code unit alone; after each step it checks the step's last unit for an invalid
    char and records that unit's index while the total is within ``limit``.  Runs of
    plain units are summed at C speed; the total never falls (weights are not
    negative), so once past ``limit`` nothing but the total can change.
    """
    table = weights.table
    length = len(units)
    starts = sorted(entities)
    n_starts = len(starts)
    next_start = 0
    total = 0
    valid = True
    valid_index = 0
    i = 0
    may_pair = not units.isascii() and _HIGH_SURROGATE.search(units) is not None
    while i < length:
        while next_start < n_starts and starts[next_start] < i:
            next_start += 1
        stop = starts[next_start] if next_start < n_starts else length
        if may_pair:
            high = _HIGH_SURROGATE.search(units, i, stop)
            if high is not None:
                stop = high.start()
        if stop > i:  # plain units i .. stop-1, one step each
            run = units[i:stop]
            if weights.ascii is not None and run.isascii():
                run_total = weights.ascii * len(run)
            else:
                run_total = -1
            if valid and total <= limit:
                bad = _INVALID_CHARS.search(run)
                if bad is None and total + len(run) * weights.heaviest <= limit:
                    valid_index = stop - 1
                else:  # the limit or an invalid char may be reached in this run
                    totals = list(
                        accumulate(map(table.__getitem__, _code_units(run)), initial=total)
                    )
                    run_total = totals[-1] - total
                    end = bad.start() if bad is not None else len(run)
                    within = bisect_right(totals, limit, 0, end + 1) - 1  # units that fit
                    if within:
                        valid_index = i + within - 1
                    valid = bad is None
            if run_total < 0:
                run_total = sum(map(table.__getitem__, _code_units(run)))
            total += run_total
            i = stop
            continue
        entity = entities.get(i)
        if entity is not None:
            end = i + entity[0] - 1
            total += entity[1]
        else:  # a high surrogate: a pair if a low one follows, else a lone unit
            end = i + 1 if i + 1 < length and "\udc00" <= units[i + 1] <= "\udfff" else i
            total += table[ord(units[end])]
        if valid and total <= limit:
            if units[end] in "\ufffe\ufeff\uffff":
                valid = False
            else:
                valid_index = end
        i = end + 1
    return total, valid, valid_index


# ---------------------------------------------------------------------------
# parseTweet
# ---------------------------------------------------------------------------


def parse_tweet(text: str, config: Mapping[str, Any] = CONFIG_V3) -> ParseResult:
    """Weighted length and validity of ``text`` exactly as X computes them.

    ``config`` is a twitter-text configuration (``CONFIG_V3`` is what X uses; an empty
    mapping means the default, as in JS).  Cheap enough to call on every keystroke:
    about a tenth of a millisecond for a typical 280-character text.
    """
    options = config or CONFIG_V3
    default_weight: int = options["defaultWeight"]
    scale: int = options["scale"]
    max_length: int = options["maxWeightedTweetLength"]
    url_weight: int = options["transformedURLLength"] * scale
    weights = _weights(default_weight, options.get("ranges") or [])
    if url_weight < 0:
        raise ValueError("twitter-text config weights must not be negative")

    if not text.isascii() and _SURROGATE.search(text):
        # Surrogate pairs held as two str elements are one character to JavaScript.
        text = _join_surrogates(text)
    text_length = _utf16_length(text)
    normalized = text if text.isascii() else unicodedata.normalize("NFC", text)
    units = _to_utf16_units(normalized)

    # Emoji first: on the same start a URL wins, as parseTweet tests URLs first.
    entities: dict[int, tuple[int, int]] = {}
    if options.get("emojiParsingEnabled") and not units.isascii():
        # Every emoji, keycaps included ("1\u20e3"), has a non-ASCII code unit.
        for start, size in _emoji_entities(units).items():
            entities[start] = (size, default_weight)
    for start, size in _url_entities(units).items():
        entities[start] = (size, url_weight)

    total, valid, valid_index = _weigh(units, entities, weights, max_length * scale)
    weighted = total / scale
    valid = valid and weighted > 0 and weighted <= max_length
    return ParseResult(
        weighted_length=total // scale,
        valid=valid,
        permillage=math.floor(weighted / max_length * 1000),
        display_range_start=0,
        display_range_end=text_length - 1 if text_length > 0 else 0,
        valid_range_start=0,
        valid_range_end=valid_index + (text_length - len(units)),
        has_invalid_characters=_INVALID_CHARS.search(normalized) is not None,
    )


def url_spans(text: str) -> list[tuple[int, int]]:
    """Where X finds links in ``text``: ``(start, end)`` indices into ``text`` itself,
    the links that X shortens to 23 characters (for a preview to show them shortened).

    The indices are Python (code point) indices into ``text`` as given; a text whose
    NFC normalization changes its length gets no spans rather than wrong ones.
    """
    if "." not in text:
        return []
    normalized = text if text.isascii() else unicodedata.normalize("NFC", text)
    if normalized != text:
        return []
    units = _to_utf16_units(text)
    spans = []
    for start, size in sorted(_url_entities(units).items()):
        # UTF-16 index -> code point index: astral characters are two units before it
        begin = len(_join_surrogates(units[:start]))
        end = len(_join_surrogates(units[: start + size]))
        spans.append((begin, end))
    return spans
