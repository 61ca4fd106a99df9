"""Every problem title identity defines is there in Kazakh, Russian and English."""

from identity.messages import TITLES


def test_every_title_in_three_languages():
    for code, texts in TITLES.items():
        assert set(texts) == {"kk", "ru", "en"}, code
        assert all(t.strip() for t in texts.values()), code
