"""The ``critlang`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from critlang.errors import CritlangError


def _units_convert(args: argparse.Namespace) -> int:
    from critlang.units import convert_exact, parse_unit

    source, target = parse_unit(args.source), parse_unit(args.target)
    value = convert_exact(args.value, source, target, molar_mass=args.molar_mass)
    print(f"{args.value} {source.code} = {_decimal_text(value)} {target.code}")
    return 0


def _units_show(args: argparse.Namespace) -> int:
    from critlang.units import display_name, parse_unit

    for code in args.codes:
        unit = parse_unit(code)
        print(f"{code}")
        print(f"  UCUM code : {unit.code}")
        print(f"  reads as  : {display_name(unit.code)}")
        print(f"  dimension : {unit.dimension.describe()} ({unit.dimension})")
        print(f"  factor    : {_decimal_text(unit.factor)} (to canonical units)")
        flags = [
            name
            for name, on in (("arbitrary", unit.is_arbitrary), ("special", unit.is_special))
            if on
        ]
        if unit.annotations:
            flags.append("annotated " + " ".join(f"{{{text}}}" for text in unit.annotations))
        if flags:
            print(f"  note      : {', '.join(flags)}")
    return 0


def _decimal_text(value: object) -> str:
    """A fraction as a short decimal: exact when it terminates, else 12 significant digits."""
    from fractions import Fraction

    assert isinstance(value, Fraction)
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator == 1:
        from decimal import Decimal, localcontext

        with localcontext() as context:
            context.prec = 60
            text = format(Decimal(value.numerator) / Decimal(value.denominator), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return f"{float(value):.12g}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="critlang", description="Clinical-trial eligibility criteria: check, evaluate, screen."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    units = commands.add_parser("units", help="read and convert UCUM units")
    unit_commands = units.add_subparsers(dest="units_command", required=True)
    convert = unit_commands.add_parser("convert", help="convert a value between two units")
    convert.add_argument("value", help="the number to convert, e.g. 1.5")
    convert.add_argument("source", help="its unit, e.g. 'x10^9/L' or mg/dL")
    convert.add_argument("target", help="the unit wanted, e.g. /uL or umol/L")
    convert.add_argument(
        "--molar-mass", metavar="G_PER_MOL", help="the analyte's molar mass, for mass <-> mol"
    )
    convert.set_defaults(handler=_units_convert)
    show = unit_commands.add_parser("show", help="show how unit codes are read")
    show.add_argument("codes", nargs="+", metavar="CODE")
    show.set_defaults(handler=_units_show)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result: int = args.handler(args)
    except CritlangError as error:
        print(f"critlang: error: {error}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    sys.exit(main())
