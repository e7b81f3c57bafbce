"""The BTS volumes the scenarios are built from."""

from __future__ import annotations

import gzip

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portwatch.domain.errors import InputError, NotFoundError
from portwatch.domain.modes import Mode
from portwatch.twin.scenario import bts


def test_every_us_mexico_port_is_listed_with_coordinates():
    ports = bts.ports()
    assert len(ports) == 27
    for port in ports:
        # the US-Mexico border runs between 25.8 and 32.8 degrees north, 97 to 117.1 west
        assert 25.5 < port.lat_deg < 33.0, port
        assert -117.2 < port.lon_deg < -97.0, port


def test_find_port_by_name_slug_and_code():
    assert bts.find_port("Otay Mesa").code == "2506"
    assert bts.find_port("otay-mesa").code == "2506"
    assert bts.find_port("2304").name == "Laredo"
    with pytest.raises(NotFoundError, match="atlantis"):
        bts.find_port("atlantis")


def test_2018_counts_match_the_published_bts_figures():
    # Annual sums of the BTS Border Crossing Entry Data, US-Mexico border, 2018
    assert bts.annual_count("San Ysidro", Mode.CAR, 2018) == 14_505_306
    assert bts.annual_count("Otay Mesa", Mode.TRUCK, 2018) == 962_577
    assert bts.total_crossings(2018) == 129_565_111


def test_daily_volume_is_the_annual_count_over_the_days_of_the_year():
    daily = bts.daily_volume("laredo", 2016)
    assert daily[Mode.TRUCK] == pytest.approx(bts.annual_count("laredo", Mode.TRUCK, 2016) / 366)


@settings(max_examples=30, deadline=None)
@given(
    port=st.sampled_from([p.code for p in bts.ports()]),
    mode=st.sampled_from(list(Mode)),
    year=st.integers(bts.FIRST_YEAR, bts.LAST_YEAR),
)
def test_seasonality_factors_average_to_one_over_the_days(port, mode, year):
    import calendar

    factors = bts.monthly_seasonality(port, mode, year)
    days = [calendar.monthrange(year, m)[1] for m in range(1, 13)]
    weighted = sum(f * d for f, d in zip(factors, days, strict=True)) / sum(days)
    assert weighted == pytest.approx(1.0)
    assert all(f >= 0 for f in factors)


def test_year_outside_the_file_is_refused():
    with pytest.raises(InputError, match="year"):
        bts.daily_volume("laredo", 2030)


def test_extract_regenerates_the_packaged_file_byte_for_byte(tmp_path):
    # a miniature source in the BTS layout
    src = tmp_path / "bts.csv"
    src.write_text(
        "port_name,state,port_code,month,measure,value,location\n"
        "Laredo,Texas,2304,2018-01,Trucks,100,POINT (-99.51 27.5)\n"
        "Laredo,Texas,2304,2018-01,Trains,3,POINT (-99.51 27.5)\n"
        "Laredo,Texas,2304,2018-02,Pedestrians,7,POINT (-99.51 27.5)\n"
        "Laredo,Texas,2304,2018-02,Trains,0,POINT (-99.51 27.5)\n"
        "Laredo,Texas,2304,2018-02,Train Passengers,5,POINT (-99.51 27.5)\n"
    )
    monthly, ports = bts.extract_bts(src, tmp_path / "out")
    text = gzip.decompress(monthly.read_bytes()).decode().splitlines()
    # trains are kept (rail), train passengers are not; a zero rail month is left out
    assert text == [
        "port_code,port_name,month,measure,value",
        "2304,Laredo,2018-01,Trains,3",
        "2304,Laredo,2018-01,Trucks,100",
        "2304,Laredo,2018-02,Pedestrians,7",
    ]
    assert ports.read_text().splitlines()[1] == "2304,Laredo,Texas,27.5000,-99.5100"
    again, _ = bts.extract_bts(src, tmp_path / "again")
    assert again.read_bytes() == monthly.read_bytes()


def test_module_command_prints_volumes(capsys):
    assert bts.main(["volumes", "otay-mesa", "--year", "2018"]) == 0
    out = capsys.readouterr().out
    assert "truck: daily_volume = 2637.2" in out
    assert bts.main(["volumes", "nowhere"]) == 2


def test_rail_is_the_containers_full_and_empty_and_trains_are_kept():
    # BTS Border Crossing Entry Data, Laredo, 2018: 4,251 trains, 258,554 loaded and
    # 188,921 empty rail containers (sums of the full file's monthly rows)
    assert sum(bts.monthly_measure("laredo", bts.TRAINS, 2018)) == 4_251
    assert sum(bts.monthly_measure("laredo", bts.RAIL_LOADED, 2018)) == 258_554
    assert bts.annual_count("laredo", Mode.RAIL, 2018) == 258_554 + 188_921
    assert bts.annual_count("san-ysidro", Mode.RAIL, 2018) == 0
    with pytest.raises(InputError, match="measure: not shipped"):
        bts.monthly_measure("laredo", "Train Passengers", 2018)
