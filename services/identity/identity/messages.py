"""What a person reads when identity says no: problem titles in Kazakh, Russian and English,
chosen by Accept-Language. The machine `code` stays the same in every language."""

from edu_common.web import problems

TITLES = {
    "email_taken": {
        "kk": "Бұл электрондық поштамен кабинет бар. Қол жеткізуді қалпына келтіріңіз.",
        "ru": "Кабинет с этой электронной почтой уже есть. Восстановите доступ.",
        "en": "A cabinet with this e-mail exists. Recover access instead.",
    },
    "iin_taken": {
        "kk": "Бұл ЖСН-мен кабинет бар. Қол жеткізуді қалпына келтіріңіз.",
        "ru": "Кабинет с этим ИИН уже есть. Восстановите доступ.",
        "en": "A cabinet for this IIN exists. Recover access instead.",
    },
    "code_wrong": {
        "kk": "Код қате.",
        "ru": "Неверный код.",
        "en": "The code is not right.",
    },
    "code_expired": {
        "kk": "Кодтың мерзімі өтті. Жаңа код сұраңыз.",
        "ru": "Срок действия кода истёк. Запросите новый.",
        "en": "The code has expired. Ask for a new one.",
    },
    "code_attempts_exhausted": {
        "kk": "Қате код тым көп енгізілді. Жаңа код сұраңыз.",
        "ru": "Слишком много неверных попыток. Запросите новый код.",
        "en": "Too many wrong codes. Ask for a new one.",
    },
    "code_used": {
        "kk": "Бұл код пайдаланылған.",
        "ru": "Этот код уже использован.",
        "en": "This code has already been used.",
    },
    "resend_too_soon": {
        "kk": "Жаңа кодты сұрамас бұрын біраз күтіңіз.",
        "ru": "Подождите немного, прежде чем запросить новый код.",
        "en": "Wait a little before asking for another code.",
    },
    "iin_format": {
        "kk": "ЖСН 12 цифрдан тұрады.",
        "ru": "ИИН состоит из 12 цифр.",
        "en": "An IIN is 12 digits.",
    },
    "iin_checksum": {
        "kk": "ЖСН қате: бақылау саны сәйкес емес.",
        "ru": "ИИН указан с ошибкой: не сходится контрольная цифра.",
        "en": "The IIN has a typo: its check digit does not match.",
    },
    "iin_date": {
        "kk": "ЖСН-дағы туған күн мүмкін емес.",
        "ru": "В ИИН указана невозможная дата рождения.",
        "en": "The IIN holds an impossible date of birth.",
    },
    "iin_century": {
        "kk": "ЖСН-ның 7-цифры қате.",
        "ru": "Седьмая цифра ИИН указана неверно.",
        "en": "The IIN's seventh digit is not valid.",
    },
    "iin_not_in_registry": {
        "kk": "Тұлғалар тізілімінде бұл ЖСН жоқ. Тексеріңіз немесе деректерді қолмен енгізіңіз.",
        "ru": "В реестре физических лиц нет такого ИИН. Проверьте его или введите данные вручную.",
        "en": "The population registry has no such IIN. Check it, or enter your data by hand.",
    },
    "birth_date_contradicts_iin": {
        "kk": "Туған күн ЖСН-ға сәйкес емес.",
        "ru": "Дата рождения не совпадает с ИИН.",
        "en": "The date of birth does not match the IIN.",
    },
    "sex_contradicts_iin": {
        "kk": "Жынысы ЖСН-ға сәйкес емес.",
        "ru": "Пол не совпадает с ИИН.",
        "en": "The sex does not match the IIN.",
    },
    "citizen_data_from_registry": {
        "kk": "Азаматтардың деректері тізілімнен алынады: тек ЖСН енгізіңіз.",
        "ru": "Данные граждан берутся из реестра: укажите только ИИН.",
        "en": "Citizens' data come from the registry: give only the IIN.",
    },
    "phone_invalid": {
        "kk": "Телефон нөмірі қате.",
        "ru": "Неверный номер телефона.",
        "en": "Not a valid phone number.",
    },
    "phone_not_mobile": {
        "kk": "Ұялы телефон нөмірін енгізіңіз.",
        "ru": "Укажите номер мобильного телефона.",
        "en": "Give a mobile number.",
    },
    "phone_not_linked": {
        "kk": "Бұл нөмір ұялы азаматтар базасында сіздің ЖСН-ға тіркелмеген.",
        "ru": "Этот номер не привязан к вашему ИИН в базе мобильных граждан.",
        "en": "This phone is not linked to your IIN in the mobile-citizens database.",
    },
    "password_policy": {
        "kk": "Құпиясөз талаптарға сай емес.",
        "ru": "Пароль не соответствует требованиям.",
        "en": "The password does not meet the rules.",
    },
    "password_mismatch": {
        "kk": "Құпиясөздер сәйкес емес.",
        "ru": "Пароли не совпадают.",
        "en": "The two passwords differ.",
    },
    "password_reused": {
        "kk": "Соңғы 5 құпиясөздің бірін қайта пайдалануға болмайды.",
        "ru": "Нельзя использовать один из последних 5 паролей.",
        "en": "Choose a password you have not used among your last 5.",
    },
    "current_password_wrong": {
        "kk": "Ағымдағы құпиясөз қате.",
        "ru": "Текущий пароль указан неверно.",
        "en": "The current password is not right.",
    },
    "password_change_required": {
        "kk": "Алдымен құпиясөзді ауыстырыңыз.",
        "ru": "Сначала смените пароль.",
        "en": "Change your password first.",
    },
    "consent_required": {
        "kk": "Кабинет ашу үшін бұл келісім қажет.",
        "ru": "Для создания кабинета нужно это согласие.",
        "en": "This consent is needed to create the cabinet.",
    },
    "registration_not_found": {
        "kk": "Тіркеу табылмады немесе мерзімі өтті. Қайта бастаңыз.",
        "ru": "Регистрация не найдена или истекла. Начните заново.",
        "en": "No such registration, or it has expired. Start again.",
    },
    "registration_incomplete": {
        "kk": "Алдымен алдыңғы қадамдарды аяқтаңыз.",
        "ru": "Сначала завершите предыдущие шаги.",
        "en": "Finish the earlier steps first.",
    },
    "email_not_confirmed": {
        "kk": "Алдымен электрондық поштаны растаңыз.",
        "ru": "Сначала подтвердите электронную почту.",
        "en": "Confirm the e-mail first.",
    },
    "invalid_credentials": {
        "kk": "ЖСН немесе құпиясөз қате.",
        "ru": "Неверный ИИН или пароль.",
        "en": "The IIN or the password is not right.",
    },
    "no_account": {
        "kk": "Бұл ЖСН-мен кабинет жоқ. Алдымен тіркеліңіз.",
        "ru": "Кабинета с этим ИИН нет. Сначала зарегистрируйтесь.",
        "en": "There is no cabinet for this IIN. Register first.",
    },
    "session_ended": {
        "kk": "Сессия аяқталды. Қайта кіріңіз.",
        "ru": "Сеанс завершён. Войдите снова.",
        "en": "This session has ended. Sign in again.",
    },
    "token_expired": {
        "kk": "Сессия мерзімі өтті. Қайта кіріңіз.",
        "ru": "Срок сеанса истёк. Войдите снова.",
        "en": "The session has expired. Sign in again.",
    },
    "invalid_refresh_token": {
        "kk": "Қайта кіріңіз.",
        "ru": "Войдите снова.",
        "en": "Sign in again.",
    },
    "challenge_used_or_expired": {
        "kk": "Сұрау пайдаланылған немесе мерзімі өткен. Қайталаңыз.",
        "ru": "Запрос уже использован или истёк. Повторите.",
        "en": "This request was used or has expired. Try again.",
    },
    "eds_untrusted": {
        "kk": "Сертификат сенімді куәландырушы орталықтан берілмеген.",
        "ru": "Сертификат выдан не доверенным удостоверяющим центром.",
        "en": "The certificate was not issued by a trusted authority.",
    },
    "eds_expired": {
        "kk": "Сертификаттың мерзімі өтті.",
        "ru": "Срок действия сертификата истёк.",
        "en": "The certificate has expired.",
    },
    "eds_revoked": {
        "kk": "Сертификат кері қайтарылған.",
        "ru": "Сертификат отозван.",
        "en": "The certificate has been revoked.",
    },
    "eds_bad_signature": {
        "kk": "Қолтаңба жарамсыз.",
        "ru": "Подпись недействительна.",
        "en": "The signature is not valid.",
    },
    "eds_key_usage": {
        "kk": "Кіру үшін AUTH кілтін пайдаланыңыз.",
        "ru": "Для входа используйте ключ AUTH.",
        "en": "Use the AUTH key to sign in.",
    },
    "too_many_lookups": {
        "kk": "Тым көп ЖСН тексерілді. Кейінірек қайталаңыз.",
        "ru": "Проверено слишком много ИИН. Повторите позже.",
        "en": "Too many IINs tried. Try again later.",
    },
    "iin_in_registry": {
        "kk": "Бұл ЖСН тізілімде бар: тек ЖСН енгізіп, оның сіздікі екенін растаңыз.",
        "ru": "Этот ИИН есть в реестре: укажите только ИИН и подтвердите, что он ваш.",
        "en": "This IIN is in the registry: give only the IIN and prove it is yours.",
    },
    "iin_proof_unavailable": {
        "kk": "Бұл ЖСН-ға телефон тіркелмеген. ЭЦҚ арқылы тіркеліңіз немесе нөмір тіркеңіз.",
        "ru": "К этому ИИН не привязан телефон. Зарегистрируйтесь с ЭЦП или привяжите номер в ЦОН.",
        "en": "No phone is linked to this IIN. Register with a digital signature or link a phone.",
    },
    "iin_proof_not_pending": {
        "kk": "Алдымен ЖСН енгізіңіз.",
        "ru": "Сначала укажите ИИН.",
        "en": "Give the IIN first.",
    },
    "eds_iin_mismatch": {
        "kk": "Сертификат басқа ЖСН-ға берілген.",
        "ru": "Сертификат выдан на другой ИИН.",
        "en": "The certificate belongs to another IIN.",
    },
    "eds_bad_cms": {
        "kk": "Қолтаңбаны оқу мүмкін емес.",
        "ru": "Не удаётся прочитать подпись.",
        "en": "The signature cannot be read.",
    },
    "eds_bad_certificate": {
        "kk": "Сертификатты оқу мүмкін емес.",
        "ru": "Не удаётся прочитать сертификат.",
        "en": "The certificate cannot be read.",
    },
    "eds_unavailable": {
        "kk": "ЭЦҚ арқылы кіру қолжетімсіз.",
        "ru": "Вход по ЭЦП недоступен.",
        "en": "Digital signatures are not available.",
    },
    "code_not_sent": {
        "kk": "Алдымен код сұраңыз.",
        "ru": "Сначала запросите код.",
        "en": "Ask for the code first.",
    },
    "code_limit": {
        "kk": "Тым көп код жіберілді. Кейінірек қайталаңыз.",
        "ru": "Отправлено слишком много кодов. Повторите позже.",
        "en": "Too many codes were sent. Try again later.",
    },
    "resend_limit": {
        "kk": "Бұл қадам үшін басқа код жіберілмейді. Қайта бастаңыз.",
        "ru": "Больше кодов для этого шага не будет. Начните заново.",
        "en": "No more codes for this step. Start again.",
    },
    "phone_not_confirmed": {
        "kk": "Алдымен телефонды SMS кодымен растаңыз.",
        "ru": "Сначала подтвердите телефон кодом из SMS.",
        "en": "Confirm the phone with the code from the SMS first.",
    },
    "phone_already_confirmed": {
        "kk": "Телефон расталған.",
        "ru": "Телефон уже подтверждён.",
        "en": "The phone is already confirmed.",
    },
    "phone_required": {
        "kk": "Телефон нөмірін енгізіңіз.",
        "ru": "Укажите номер телефона.",
        "en": "Give a phone number.",
    },
    "registry_unavailable": {
        "kk": "Тұлғалар тізілімі жауап бермейді. Кейінірек қайталаңыз.",
        "ru": "Реестр физических лиц не отвечает. Повторите позже.",
        "en": "The population registry does not answer. Try again later.",
    },
    "one_time_password_expired": {
        "kk": "Бір реттік құпиясөздің мерзімі өтті. Жаңасын сұраңыз немесе қалпына келтіріңіз.",
        "ru": "Срок одноразового пароля истёк. Запросите новый или восстановите доступ.",
        "en": "The one-time password has expired. Ask for a new one or recover access.",
    },
    "document_not_checked": {
        "kk": "Алдымен жеке басын куәландыратын құжатты тексеріңіз.",
        "ru": "Сначала проверьте документ, удостоверяющий личность.",
        "en": "Check the identity document first.",
    },
    "already_created": {
        "kk": "Мектеп бұл ата-ананың есептік жазбасын бұрын құрған.",
        "ru": "Школа уже создала учётную запись этого родителя.",
        "en": "The school has made this parent's account already.",
    },
    "too_many_rows": {
        "kk": "Файлда жолдар тым көп. Оны бөліңіз.",
        "ru": "В файле слишком много строк. Разделите его.",
        "en": "The file has too many rows. Split it.",
    },
    "too_many_challenges": {
        "kk": "Қолтаңба әрекеттері тым көп. Қайта бастаңыз.",
        "ru": "Слишком много попыток подписи. Начните заново.",
        "en": "Too many signature attempts. Start again.",
    },
}


def install() -> None:
    problems.TITLES.update(TITLES)
