"""An installer's site file loads by command; mistakes in it are named."""

from pathlib import Path

import pytest

from foundation.errors import ConfigError
from server.services.site_data import load_site_data

GOOD = """
[[squad]]
code = "s1"
name = "一队"
[[grid]]
code = "g1"
name = "一网格"
squad = "s1"
[[compound]]
code = "A"
name_zh = "甲小区"
grid = "g1"
buildings = 1
"""


def test_a_good_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(GOOD, encoding="utf-8")
    assert load_site_data(path).compound[0].name_zh == "甲小区"


@pytest.mark.parametrize(("extra", "where"), [
    ('[[volunteer]]\ncode = "v"\ngiven_name = "x"\nsquad = "nope"\n', "unknown squad"),
    ('[[user]]\nusername = "l"\nrole = "squad_leader"\n', "needs `squad`"),
    ('[[user]]\nusername = "l"\nrole = "king"\n', "user.0.role"),
    ('[[volunteer]]\ncode = "v"\ngiven_name = "x"\nsquad = "s1"\nphone = "123"\n',
     "volunteer.0.phone"),
])
def test_mistakes_are_named(tmp_path: Path, extra: str, where: str) -> None:
    path = tmp_path / "site.toml"
    path.write_text(GOOD + extra, encoding="utf-8")
    with pytest.raises(ConfigError, match=where):
        load_site_data(path)
