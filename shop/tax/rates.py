"""The tax rate table: one rate per buyer's country, read from a JSON file the owner updates.

The file (TAX_RATES_FILE; shop/tax/rates.json by default) names its source and the
date its rates were checked, so an invoice's rate can be traced to where it came
from. It holds the EU member states (for the reverse charge), the prefixes of VAT
numbers that differ from the ISO code (Greece writes EL), the rates as decimal
strings ("19", "25.5") and the names of every country a buyer may choose. A country
without a rate is one where the shop does not charge tax.
"""

import dataclasses
import json
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

from shop.errors import ConfigError

DEFAULT_FILE = Path(__file__).resolve().parent / "rates.json"


@dataclasses.dataclass(frozen=True)
class RateTable:
    source: str
    date: str
    eu: frozenset
    vat_prefixes: dict
    rates: dict       # {country code: Decimal percent}
    countries: dict   # {country code: name}, in the order the checkout lists them

    def rate_for(self, country):
        """The percent charged to a consumer in `country`, or None where the shop charges none."""
        return self.rates.get((country or "").upper())

    def is_eu(self, country):
        return (country or "").upper() in self.eu

    def country_of_vat_number(self, vat_number):
        """The ISO country a VAT number's prefix names ("EL123..." is Greece's, GR)."""
        prefix = (vat_number or "")[:2].upper()
        return self.vat_prefixes.get(prefix, prefix)

    def name_of(self, country):
        return self.countries.get((country or "").upper(), country or "")


def parse(data, origin="the tax rate file"):
    """A RateTable from the file's decoded JSON; ConfigError naming what is wrong."""
    try:
        rates = {}
        for code, text in data["rates"].items():
            rate = Decimal(str(text))
            if not (rate.is_finite() and 0 <= rate < 100):
                raise ConfigError(f"{origin}: the rate of {code} must be a percent from 0 to 100; got {text!r}")
            rates[code.upper()] = rate
        table = RateTable(source=str(data["source"]), date=str(data["date"]),
                          eu=frozenset(code.upper() for code in data["eu"]),
                          vat_prefixes={k.upper(): v.upper() for k, v in data.get("vat_prefixes", {}).items()},
                          rates=rates, countries=dict(data["countries"]))
    except (KeyError, TypeError, AttributeError, InvalidOperation) as exc:
        raise ConfigError(f"{origin} needs source, date, eu, rates and countries: {exc!r}") from None
    unknown = sorted(set(rates) - set(table.countries))
    if unknown:
        raise ConfigError(f"{origin}: rates for countries it does not list: {', '.join(unknown)}")
    return table


@lru_cache(maxsize=4)
def _load(path, mtime):
    with open(path, encoding="utf-8") as handle:
        return parse(json.load(handle), origin=str(path))


def table(path=None):
    """The rate table of TAX_RATES_FILE, read again whenever the owner changes the file."""
    from shop import config

    path = Path(path or config.TAX_RATES_FILE)
    try:
        return _load(str(path), path.stat().st_mtime_ns)
    except FileNotFoundError:
        raise ConfigError(f"TAX_RATES_FILE {path} does not exist") from None
    except ValueError as exc:
        raise ConfigError(f"TAX_RATES_FILE {path} is not JSON: {exc}") from None
