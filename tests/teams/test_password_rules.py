"""Strong passwords wherever one is chosen: long, not common, not all digits, not like the person."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from ruian_grid.demo import DEMO_PASSWORD
from teams.models import User


@pytest.mark.parametrize(
    "weak",
    [
        "Sh0rt-pw!",  # under 12 characters
        "password1234",  # a common password
        "330381200112",  # digits only
        "jiusan_member1",  # like the username
    ],
)
def test_weak_passwords_are_refused(cast, weak):
    with pytest.raises(ValidationError):
        validate_password(weak, user=cast.village_member)


def test_demo_password_meets_the_rules(cast):
    validate_password(DEMO_PASSWORD, user=cast.village_member)


def test_admin_refuses_a_weak_password_and_changes_nothing(client, cast):
    client.force_login(cast.township_a_admin)
    url = reverse("admin:auth_user_password_change", args=[cast.village_member.pk])
    before = User.objects.get(pk=cast.village_member.pk).password
    response = client.post(url, {"password1": "12345678", "password2": "12345678"})
    assert response.status_code == 200 and response.context["form"].errors
    assert User.objects.get(pk=cast.village_member.pk).password == before
    # A strong one is taken.
    response = client.post(url, {"password1": "Lamp-Harbor-Kite-77", "password2": "Lamp-Harbor-Kite-77"})
    assert response.status_code == 302
    assert User.objects.get(pk=cast.village_member.pk).check_password("Lamp-Harbor-Kite-77")
