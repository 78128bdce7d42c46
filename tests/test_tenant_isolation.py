"""No endpoint of the API shows another city's rows; no foreign id answers anything but 404."""

import pytest
from rest_framework.test import APIClient

from grids.models import Household
from ruian_grid.api_urls import router


def list_routes():
    return sorted({prefix for prefix, _viewset, _basename in router.registry})


@pytest.mark.parametrize("prefix", list_routes())
def test_another_city_admin_sees_nothing_of_ruian_on_any_list(cast, prefix):
    Household.objects.create(
        tenant=cast.ruian,
        city=cast.city,
        township=cast.township_a,
        cell=cast.cell_a1,
        plot=cast.plot_a1,
        number="R1",
    )
    client = APIClient()
    client.force_authenticate(cast.other_tenant_admin)
    response = client.get(f"/api/v1/{prefix}/")
    assert response.status_code in (200, 403, 405), response.content[:300]
    body = response.content.decode()
    for marker in ("330381", "上望", "九三村", "塘下", "林北村"):
        assert marker not in body, f"/api/v1/{prefix}/ shows Ruian data ({marker})"
    # The same list as a Ruian city administrator does show Ruian (the refusal was about the city).
    client.force_authenticate(cast.city_admin)
    assert client.get(f"/api/v1/{prefix}/").status_code in (200, 403, 405)
