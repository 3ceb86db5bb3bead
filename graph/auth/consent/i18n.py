# ruff: noqa: RUF001  (Cyrillic and Uzbek Latin letters are the point of this module)
"""The consent pages' words in Russian, Tajik, Uzbek (Latin) and English.

Scopes are described in plain words, as a customer would say what an app may do. Tajik and
Uzbek wording follows the banks' own apps where a term was found (see
shared/reference/domain-tj.md) and needs a native speaker's review before launch.
"""

from __future__ import annotations

from ledger import consents

LANGUAGES = ("ru", "tg", "uz", "en")
DEFAULT_LANGUAGE = "ru"
LANGUAGE_NAMES = {"ru": "Русский", "tg": "Тоҷикӣ", "uz": "Oʻzbekcha", "en": "English"}

SCOPES: dict[str, dict[str, str]] = {
    "accounts:read": {
        "ru": "видеть названия, номера и валюты ваших счетов",
        "tg": "номҳо, рақамҳо ва асъори ҳисобҳои шуморо дидан",
        "uz": "hisoblaringiz nomi, raqami va valyutasini koʻrish",
        "en": "see your accounts' names, numbers and currencies",
    },
    "balances:read": {
        "ru": "видеть остатки на ваших счетах",
        "tg": "бақияи ҳисобҳои шуморо дидан",
        "uz": "hisoblaringizdagi qoldiqni koʻrish",
        "en": "see your balances",
    },
    "transactions:read": {
        "ru": "видеть ваши операции",
        "tg": "амалиётҳои шуморо дидан",
        "uz": "operatsiyalaringizni koʻrish",
        "en": "see your transactions",
    },
    "statements:read": {
        "ru": "видеть выписки по вашим счетам",
        "tg": "ҳисоботи ҳисобҳои шуморо дидан",
        "uz": "hisob koʻchirmalaringizni koʻrish",
        "en": "see your account statements",
    },
    "cards:read": {
        "ru": "видеть ваши карты (номера скрыты)",
        "tg": "кортҳои шуморо дидан (рақамҳо пинҳон)",
        "uz": "kartalaringizni koʻrish (raqamlar yashirilgan)",
        "en": "see your cards (numbers masked)",
    },
    "transfers:read": {
        "ru": "видеть ваши денежные переводы",
        "tg": "интиқолҳои пулии шуморо дидан",
        "uz": "pul oʻtkazmalaringizni koʻrish",
        "en": "see your money transfers",
    },
    "payments:read": {
        "ru": "видеть ваши платежи за услуги (связь, коммунальные)",
        "tg": "пардохтҳои шуморо барои хизматрасониҳо дидан (алоқа, коммуналӣ)",
        "uz": "xizmatlar uchun toʻlovlaringizni koʻrish (aloqa, kommunal)",
        "en": "see your payments for services (mobile, utilities)",
    },
}

MESSAGES: dict[str, dict[str, str]] = {
    "title": {
        "ru": "Доступ к вашим данным Alif",
        "tg": "Дастрасӣ ба маълумоти Alif-и шумо",
        "uz": "Alif maʼlumotlaringizga ruxsat",
        "en": "Access to your Alif data",
    },
    "asks": {
        "ru": "«$app» просит доступ к вашим данным.",
        "tg": "«$app» ба маълумоти шумо дастрасӣ мехоҳад.",
        "uz": "«$app» maʼlumotlaringizga ruxsat soʻramoqda.",
        "en": "“$app” asks for access to your data.",
    },
    "phone_heading": {
        "ru": "Вход по номеру телефона",
        "tg": "Ворид шудан бо рақами телефон",
        "uz": "Telefon raqami bilan kirish",
        "en": "Sign in with your phone number",
    },
    "phone_label": {
        "ru": "Номер телефона",
        "tg": "Рақами телефон",
        "uz": "Telefon raqami",
        "en": "Phone number",
    },
    "phone_button": {
        "ru": "Получить код",
        "tg": "Гирифтани рамз",
        "uz": "Kod olish",
        "en": "Get a code",
    },
    "phone_error": {
        "ru": "Введите номер вида +992 XX XXX XXXX.",
        "tg": "Рақамро дар шакли +992 XX XXX XXXX ворид кунед.",
        "uz": "Raqamni +992 XX XXX XXXX koʻrinishida kiriting.",
        "en": "Enter a number like +992 XX XXX XXXX.",
    },
    "code_heading": {
        "ru": "Введите код",
        "tg": "Рамзро ворид кунед",
        "uz": "Kodni kiriting",
        "en": "Enter the code",
    },
    "code_sent_to": {
        "ru": "Мы отправили 6-значный код на номер $phone.",
        "tg": "Мо рамзи 6-рақамаро ба рақами $phone фиристодем.",
        "uz": "$phone raqamiga 6 xonali kod yubordik.",
        "en": "We sent a 6-digit code to $phone.",
    },
    "code_label": {"ru": "Код", "tg": "Рамз", "uz": "Kod", "en": "Code"},
    "confirm": {"ru": "Подтвердить", "tg": "Тасдиқ", "uz": "Tasdiqlash", "en": "Confirm"},
    "resend": {
        "ru": "Отправить новый код",
        "tg": "Рамзи нав фиристед",
        "uz": "Yangi kod yuborish",
        "en": "Send a new code",
    },
    "other_number": {
        "ru": "Другой номер",
        "tg": "Рақами дигар",
        "uz": "Boshqa raqam",
        "en": "Use another number",
    },
    "code_error": {
        "ru": "Код не подходит. Проверьте его или запросите новый.",
        "tg": "Рамз дуруст нест. Онро санҷед ё рамзи нав дархост кунед.",
        "uz": "Kod mos emas. Uni tekshiring yoki yangisini soʻrang.",
        "en": "The code is not valid. Check it or ask for a new one.",
    },
    "sca_error": {
        "ru": "Код или PIN-код не подходит. Проверьте их или запросите новый код.",
        "tg": "Рамз ё PIN-рамз дуруст нест. Онҳоро санҷед ё рамзи нав дархост кунед.",
        "uz": "Kod yoki PIN-kod mos emas. Ularni tekshiring yoki yangi kod soʻrang.",
        "en": "The code or the PIN is not valid. Check them or ask for a new code.",
    },
    "sca_locked": {
        "ru": "Слишком много неудачных попыток: номер заблокирован до $until (время Душанбе). "
        "Мы отправили вам SMS.",
        "tg": "Кӯшишҳои ноком аз ҳад зиёданд: рақам то $until (вақти Душанбе) баста шуд. "
        "Мо ба шумо SMS фиристодем.",
        "uz": "Muvaffaqiyatsiz urinishlar juda koʻp: raqam $until gacha (Dushanbe vaqti) "
        "bloklandi. Sizga SMS yubordik.",
        "en": "Too many failed attempts: this number is locked until $until (Dushanbe time). "
        "We have sent you a text.",
    },
    "pin_label": {"ru": "PIN-код", "tg": "PIN-рамз", "uz": "PIN-kod", "en": "PIN"},
    "pin_hint": {
        "ru": "6 цифр, выбранных при первом разрешении. Впервые? Придумайте PIN-код сейчас: "
        "на следующем шаге вы его повторите.",
        "tg": "6 рақаме, ки ҳангоми иҷозати аввал интихоб кардед. Бори аввал? Ҳозир PIN-рамз "
        "интихоб кунед: дар қадами навбатӣ онро такрор мекунед.",
        "uz": "Birinchi ruxsatda tanlagan 6 xonali raqamingiz. Birinchi marta? Hozir PIN-kod "
        "tanlang: keyingi qadamda uni takrorlaysiz.",
        "en": "The 6 digits you chose at your first approval. First time? Choose a PIN now: "
        "you will repeat it on the next page.",
    },
    "pin_format": {
        "ru": "PIN-код: 6 цифр, не одинаковых и не подряд (не 111111 и не 123456).",
        "tg": "PIN-рамз: 6 рақам, на якхела ва на пай дар пай (на 111111 ва на 123456).",
        "uz": "PIN-kod: 6 ta raqam, bir xil yoki ketma-ket emas (111111 yoki 123456 emas).",
        "en": "A PIN is 6 digits, not all the same and not a run (not 111111 or 123456).",
    },
    "pin_choose_heading": {
        "ru": "Придумайте PIN-код",
        "tg": "PIN-рамз интихоб кунед",
        "uz": "PIN-kod tanlang",
        "en": "Choose your PIN",
    },
    "pin_choose_text": {
        "ru": "Он понадобится вместе с кодом из SMS каждый раз, когда вы разрешаете доступ.",
        "tg": "Он ҳар дафъае, ки иҷозат медиҳед, ҳамроҳи рамзи SMS лозим мешавад.",
        "uz": "U har safar ruxsat berganingizda SMS kodi bilan birga kerak boʻladi.",
        "en": "You will need it, with the code we text you, every time you allow access.",
    },
    "pin_confirm_heading": {
        "ru": "Повторите PIN-код",
        "tg": "PIN-рамзро такрор кунед",
        "uz": "PIN-kodni takrorlang",
        "en": "Repeat your PIN",
    },
    "pin_mismatch": {
        "ru": "PIN-коды не совпали. Придумайте PIN-код ещё раз.",
        "tg": "PIN-рамзҳо мувофиқ наомаданд. PIN-рамзро аз нав интихоб кунед.",
        "uz": "PIN-kodlar mos kelmadi. PIN-kodni qaytadan tanlang.",
        "en": "The PINs did not match. Choose your PIN again.",
    },
    "pin_saved": {
        "ru": "PIN-код сохранён.",
        "tg": "PIN-рамз нигоҳ дошта шуд.",
        "uz": "PIN-kod saqlandi.",
        "en": "Your PIN is set.",
    },
    "cool_down": {
        "ru": "Новый код можно запросить через $seconds с.",
        "tg": "Рамзи навро пас аз $seconds сония дархост кардан мумкин аст.",
        "uz": "Yangi kodni $seconds soniyadan keyin soʻrash mumkin.",
        "en": "You can ask for a new code in $seconds s.",
    },
    "code_resent": {
        "ru": "Новый код отправлен.",
        "tg": "Рамзи нав фиристода шуд.",
        "uz": "Yangi kod yuborildi.",
        "en": "A new code has been sent.",
    },
    "consent_heading": {
        "ru": "Разрешить доступ?",
        "tg": "Иҷозат медиҳед?",
        "uz": "Ruxsat berasizmi?",
        "en": "Allow access?",
    },
    "will_be_able": {
        "ru": "«$app» сможет:",
        "tg": "«$app» метавонад:",
        "uz": "«$app» quyidagilarni qila oladi:",
        "en": "“$app” will be able to:",
    },
    "accounts_heading": {
        "ru": "Какие счета показать",
        "tg": "Кадом ҳисобҳоро нишон диҳем",
        "uz": "Qaysi hisoblarni koʻrsatish",
        "en": "Accounts to share",
    },
    "no_accounts": {
        "ru": "Здесь пока нет ваших счетов. Подключите счёт Alif ниже.",
        "tg": "Дар ин ҷо ҳоло ҳисобҳои шумо нестанд. Ҳисоби Alif-ро дар поён пайваст кунед.",
        "uz": "Bu yerda hali hisoblaringiz yoʻq. Quyida Alif hisobini ulang.",
        "en": "You have no accounts here yet. Link your Alif account below.",
    },
    "expires_label": {
        "ru": "Доступ действует до",
        "tg": "Дастрасӣ то санаи",
        "uz": "Ruxsat amal qiladi",
        "en": "Access ends on",
    },
    "expires_hint": {
        "ru": "Не дольше 180 дней. Отозвать доступ можно в любой момент.",
        "tg": "На зиёда аз 180 рӯз. Дастрасиро ҳар вақт бозхонд кардан мумкин аст.",
        "uz": "Koʻpi bilan 180 kun. Ruxsatni istalgan vaqtda bekor qilish mumkin.",
        "en": "At most 180 days. You can revoke access at any time.",
    },
    "approve": {"ru": "Разрешить", "tg": "Иҷозат додан", "uz": "Ruxsat berish", "en": "Allow"},
    "reject": {"ru": "Отказать", "tg": "Рад кардан", "uz": "Rad etish", "en": "Deny"},
    "accounts_error": {
        "ru": "Выберите хотя бы один счёт.",
        "tg": "Ақаллан як ҳисобро интихоб кунед.",
        "uz": "Kamida bitta hisobni tanlang.",
        "en": "Choose at least one account.",
    },
    "expiry_error": {
        "ru": "Выберите дату от завтра до 180 дней вперёд.",
        "tg": "Санаро аз пагоҳ то 180 рӯз пеш интихоб кунед.",
        "uz": "Ertadan boshlab 180 kungacha boʻlgan sanani tanlang.",
        "en": "Choose a date from tomorrow up to 180 days ahead.",
    },
    "bank_heading": {
        "ru": "Подключить счёт Alif",
        "tg": "Пайваст кардани ҳисоби Alif",
        "uz": "Alif hisobini ulash",
        "en": "Link your Alif account",
    },
    "bank_text": {
        "ru": "Вы войдёте на сайте банка Alif и подтвердите доступ там, до даты, выбранной "
        "выше. Пароль от Alif вы вводите только в банке: мы его не видим.",
        "tg": "Шумо дар сомонаи бонки Alif ворид шуда, дастрасиро то санаи дар боло "
        "интихобшуда тасдиқ мекунед. Пароли Alif-ро танҳо дар бонк ворид мекунед: мо онро "
        "намебинем.",
        "uz": "Siz Alif banki saytiga kirib, yuqorida tanlangan sanagacha ruxsatni oʻsha yerda "
        "tasdiqlaysiz. Alif parolini faqat bankda kiritasiz: biz uni koʻrmaymiz.",
        "en": "You will sign in on Alif Bank's own site and approve access there, until the "
        "date chosen above. You type your Alif password only at the bank: we never see it.",
    },
    "bank_button": {
        "ru": "Подключить счёт Alif",
        "tg": "Пайваст кардан",
        "uz": "Ulash",
        "en": "Link Alif account",
    },
    "bank_linked": {
        "ru": "Счёт Alif подключён.",
        "tg": "Ҳисоби Alif пайваст шуд.",
        "uz": "Alif hisobi ulandi.",
        "en": "Your Alif account is linked.",
    },
    "bank_failed": {
        "ru": "Счёт Alif не подключён: в банке доступ не подтвердили. Попробуйте ещё раз.",
        "tg": "Ҳисоби Alif пайваст нашуд: дар бонк дастрасӣ тасдиқ нашуд. Бори дигар кӯшиш кунед.",
        "uz": "Alif hisobi ulanmadi: bankda ruxsat tasdiqlanmadi. Qaytadan urinib koʻring.",
        "en": "Your Alif account was not linked: access was not approved at the bank. Try again.",
    },
    "bank_unavailable": {
        "ru": "Банк сейчас недоступен. Попробуйте позже.",
        "tg": "Бонк ҳоло дастнорас аст. Баъдтар кӯшиш кунед.",
        "uz": "Bank hozir mavjud emas. Keyinroq urinib koʻring.",
        "en": "The bank cannot be reached right now. Try again later.",
    },
    "error_title": {
        "ru": "Что-то пошло не так",
        "tg": "Хатогӣ рух дод",
        "uz": "Nimadir notoʻgʻri ketdi",
        "en": "Something went wrong",
    },
    "unknown_client": {
        "ru": "Это приложение или его адрес возврата не зарегистрированы. Мы никуда вас не "
        "перенаправили.",
        "tg": "Ин барнома ё суроғаи бозгашти он сабт нашудааст. Мо шуморо ба ҷое нафиристодем.",
        "uz": "Bu ilova yoki uning qaytish manzili roʻyxatdan oʻtmagan. Sizni hech qayerga "
        "yubormadik.",
        "en": "This app, or its return address, is not registered. You have not been sent "
        "anywhere.",
    },
    "expired": {
        "ru": "Страница устарела. Вернитесь в приложение и начните заново.",
        "tg": "Мӯҳлати саҳифа гузашт. Ба барнома баргардед ва аз нав оғоз кунед.",
        "uz": "Sahifa eskirdi. Ilovaga qayting va qaytadan boshlang.",
        "en": "This page has expired. Go back to the app and start again.",
    },
    "bad_request": {
        "ru": "Запрос не удалось обработать.",
        "tg": "Дархостро коркард кардан нашуд.",
        "uz": "Soʻrovni bajarib boʻlmadi.",
        "en": "The request could not be processed.",
    },
    "too_many": {
        "ru": "Слишком много попыток. Попробуйте через несколько минут.",
        "tg": "Кӯшишҳо аз ҳад зиёданд. Пас аз чанд дақиқа кӯшиш кунед.",
        "uz": "Urinishlar juda koʻp. Bir necha daqiqadan keyin urinib koʻring.",
        "en": "Too many attempts. Try again in a few minutes.",
    },
    "manage_heading": {
        "ru": "Ваши разрешения",
        "tg": "Иҷозатҳои шумо",
        "uz": "Ruxsatlaringiz",
        "en": "Your consents",
    },
    "manage_none": {
        "ru": "Ни у одного приложения нет доступа к вашим данным.",
        "tg": "Ҳеҷ барнома ба маълумоти шумо дастрасӣ надорад.",
        "uz": "Hech bir ilova maʼlumotlaringizga ruxsatga ega emas.",
        "en": "No app has access to your data.",
    },
    "manage_until": {
        "ru": "до $date",
        "tg": "то $date",
        "uz": "$date gacha",
        "en": "until $date",
    },
    "revoke": {"ru": "Отозвать", "tg": "Бозхонд", "uz": "Bekor qilish", "en": "Revoke"},
    "revoked_done": {
        "ru": "Доступ отозван.",
        "tg": "Дастрасӣ бозхонд шуд.",
        "uz": "Ruxsat bekor qilindi.",
        "en": "Access revoked.",
    },
    "development_app": {
        "ru": "Инструмент разработчика",
        "tg": "Асбоби барномасоз",
        "uz": "Dasturchi vositasi",
        "en": "Developer tool",
    },
}


# How the consents page names a consent's (effective) status.
STATUSES: dict[str, dict[str, str]] = {
    consents.AUTHORISED: {"ru": "активно", "tg": "фаъол", "uz": "faol", "en": "active"},
    consents.REVOKED: {"ru": "отозвано", "tg": "бозхонд", "uz": "bekor qilingan", "en": "revoked"},
    consents.EXPIRED: {
        "ru": "истекло",
        "tg": "мӯҳлаташ гузашт",
        "uz": "muddati tugagan",
        "en": "expired",
    },
    consents.REJECTED: {"ru": "отклонено", "tg": "рад шуд", "uz": "rad etilgan", "en": "denied"},
}


def text(lang: str, key: str) -> str:
    return MESSAGES[key].get(lang) or MESSAGES[key]["en"]


def scope_text(lang: str, scope: str) -> str:
    return SCOPES[scope].get(lang) or SCOPES[scope]["en"]


def status_text(lang: str, status: str) -> str:
    return STATUSES[status].get(lang) or STATUSES[status]["en"]


def supported(lang: str | None) -> str | None:
    return lang if lang in LANGUAGES else None


def negotiate(accept_language: str | None) -> str:
    """The best of our languages for an Accept-Language header (`tg-TJ,ru;q=0.8`)."""
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for item in (accept_language or "").split(",")[:20]:
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        if q > best_q:
            best, best_q = primary, q
    return best
