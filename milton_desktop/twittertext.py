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

Known, deliberate differences (no conformance case covers them):

* ``punycode.toASCII`` throws a RangeError on arithmetic overflow (a single domain
  label of thousands of astral characters); JavaScript's ``parseTweet`` then throws.
  Python's punycode codec has no overflow, so such a label is simply too long and
  the text is not a URL.
* Case folding and NFC use the Unicode tables of the running Python (3.11: Unicode
  14), a JavaScript engine its own; they differ only for characters assigned since
  (e.g. U+A7DC, whose lower case is in the Latin range of URL paths).
* ``weighted_length`` is an ``int``: a custom config whose weights are not multiples
  of ``scale`` would give a fraction in JavaScript; it is floored here, as the Java
  twitter-text does.  ``valid`` and ``permillage`` use the exact value, as in JS.
"""

from __future__ import annotations

import math
import re
import unicodedata
from array import array
from collections.abc import Mapping
from dataclasses import dataclass
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
# verbatim: it is written in UTF-16 code units, which is what it runs on here).
# ---------------------------------------------------------------------------

_GTLDS = (
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

_CCTLDS = (
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
    f"(?:{_VALID_SUBDOMAIN}*{_VALID_DOMAIN_NAME}"
    f"(?:{_VALID_GTLD}|{_VALID_CCTLD}|{_VALID_PUNYCODE}))"
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

# Groups: 1 whole match, 2 preceding char, 3 URL, 4 protocol, 5 domain, 6 port,
# 7 path, 8 query (js/src/regexp/extractUrl.js).
_EXTRACT_URL = re.compile(
    f"(({_VALID_URL_PRECEDING_CHARS})((https?:\\/\\/)?({_VALID_DOMAIN})"
    f"(?::({_VALID_PORT_NUMBER}))?(\\/{_VALID_URL_PATH}*)?"
    f"(\\?{_VALID_URL_QUERY_CHARS}*{_VALID_URL_QUERY_ENDING_CHARS})?))",
    re.IGNORECASE,
)
_VALID_ASCII_DOMAIN = re.compile(
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
_EMOJI = re.compile(_EMOJI_SOURCE)

# The characters Python's IGNORECASE folds differently from JavaScript's (which never
# maps a non-ASCII character onto ASCII and folds by upper case): U+0130, U+0131,
# U+017F and U+212A match ASCII letters, U+212B (Angstrom sign) matches "å".  Each is
# replaced by a character with the same JavaScript class membership in every URL regex.
_CASE_TRAPS = re.compile("[\u0130\u0131\u017f\u212a\u212b]")
_CASE_TRAP_STAND_INS = str.maketrans(
    {
        "\u0130": "\u0180",
        "\u0131": "\u0180",
        "\u017f": "\u0180",
        "\u212a": "\u2129",
        "\u212b": "\u2129",
    }
)

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# punycode 1.4.1: labels are split on these, and encoded when not printable ASCII.
_PUNYCODE_SEPARATORS = re.compile("[\x2e\u3002\uff0e\uff61]")
_PUNYCODE_NEEDS_ENCODING = re.compile("[^\x20-\x7e]")

_DEFAULT_PROTOCOL = "https://"
_MAX_URL_LENGTH = 4096
_MAX_TCO_SLUG_LENGTH = 40
_MAX_DOMAIN_LABEL_LENGTH = 63


# ---------------------------------------------------------------------------
# UTF-16 helpers
# ---------------------------------------------------------------------------


def _split_astral(match: re.Match[str]) -> str:
    cp = ord(match.group()) - 0x10000
    return chr(0xD800 + (cp >> 10)) + chr(0xDC00 + (cp & 0x3FF))


def _to_utf16_units(text: str) -> str:
    """The text as JavaScript sees it: one ``str`` element per UTF-16 code unit."""
    if text.isascii() or not _ASTRAL.search(text):
        return text
    return _ASTRAL.sub(_split_astral, text)


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


def _url_entities(units: str) -> dict[int, int]:
    """Start index -> ``url.length`` of every URL entity, as ``parseTweet`` uses them.

    ``units`` is the normalized text in UTF-16 code units.  Like JavaScript, a later
    entity with the same start replaces an earlier one, and a URL without protocol
    whose domain has a non-ASCII prefix starts at its ASCII part.
    """
    if "." not in units:
        return {}
    text = units.translate(_CASE_TRAP_STAND_INS) if _CASE_TRAPS.search(units) else units
    entities: list[list[int]] = []
    pos = 0
    while True:
        m = _EXTRACT_URL.search(text, pos)
        if m is None:
            break
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


# ---------------------------------------------------------------------------
# Weights
# ---------------------------------------------------------------------------

_weight_tables: dict[tuple[Any, ...], array[int]] = {}


def _weight_table(default_weight: int, ranges: list[Mapping[str, int]]) -> array[int]:
    """Weight of every UTF-16 code unit (``getCharacterWeight``), built once per config.

    The first range containing the unit wins, as in the JS loop over ``ranges``.
    """
    key = (default_weight, tuple((r["start"], r["end"], r["weight"]) for r in ranges))
    table = _weight_tables.get(key)
    if table is None:
        table = array("q", [default_weight]) * 0x10000
        for r in reversed(ranges):
            lo, hi = max(r["start"], 0), min(r["end"], 0xFFFF)
            if lo <= hi:
                table[lo : hi + 1] = array("q", [r["weight"]]) * (hi - lo + 1)
        _weight_tables[key] = table
    return table


# ---------------------------------------------------------------------------
# parseTweet
# ---------------------------------------------------------------------------


def parse_tweet(text: str, config: Mapping[str, Any] = CONFIG_V3) -> ParseResult:
    """Weighted length and validity of ``text`` exactly as X computes them.

    ``config`` is a twitter-text configuration (``CONFIG_V3`` is what X uses; an empty
    mapping means the default, as in JS).  Cheap enough to call on every keystroke.
    """
    options = config or CONFIG_V3
    default_weight: int = options["defaultWeight"]
    scale: int = options["scale"]
    max_length: int = options["maxWeightedTweetLength"]
    url_weight: int = options["transformedURLLength"] * scale
    emoji_parsing = bool(options.get("emojiParsingEnabled"))
    weights = _weight_table(default_weight, options.get("ranges") or [])

    if not text.isascii() and _SURROGATE.search(text):
        # Surrogate pairs held as two str elements are one character to JavaScript.
        text = _join_surrogates(text)
    text_length = _utf16_length(text)
    normalized = text if text.isascii() else unicodedata.normalize("NFC", text)
    units = _to_utf16_units(normalized)
    length = len(units)

    urls = _url_entities(units)
    emojis: dict[int, int] = {}
    if emoji_parsing and not units.isascii():
        # Every emoji, keycaps included ("1\u20e3"), has a non-ASCII code unit.
        emojis = {m.start(): m.end() - m.start() for m in _EMOJI.finditer(units)}

    limit = max_length * scale
    total = 0
    valid = True
    valid_index = 0
    i = 0
    while i < length:
        skip = urls.get(i)
        if skip is not None:
            total += url_weight
            i += skip - 1
        else:
            skip = emojis.get(i)
            if skip is not None:
                total += default_weight
                i += skip - 1
            else:
                unit = ord(units[i])
                if 0xD800 <= unit <= 0xDBFF and i + 1 < length:
                    following = ord(units[i + 1])
                    if 0xDC00 <= following <= 0xDFFF:
                        # JS weighs a surrogate pair by its low surrogate (charAt after +1).
                        i += 1
                        unit = following
                total += weights[unit]
        if valid and units[i] in "\ufffe\ufeff\uffff":
            valid = False
        if valid and total <= limit:
            valid_index = i
        i += 1

    weighted = total / scale
    valid = valid and weighted > 0 and weighted <= max_length
    permillage = math.floor(weighted / max_length * 1000)
    return ParseResult(
        weighted_length=total // scale,
        valid=valid,
        permillage=permillage,
        display_range_start=0,
        display_range_end=text_length - 1 if text_length > 0 else 0,
        valid_range_start=0,
        valid_range_end=valid_index + (text_length - length),
        has_invalid_characters=_INVALID_CHARS.search(normalized) is not None,
    )
