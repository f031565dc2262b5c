"""``restflow.serializers.ModelSerializer`` builds its fields from the model once per class.

Every instance after the first gets fields made from the kept recipe; these tests hold
them to DRF's: the same classes and arguments (``repr()`` of a DRF serializer prints
both), the same output and errors, nothing shared between instances, and DRF's own
way for any class that customises field building or nests.
"""

from __future__ import annotations

import gc
import weakref
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from rest_framework import serializers as drf
from rest_framework.fields import Field

from restflow import serializers as rf
from tests.testapp.models import Category, Product, Review

pytestmark = pytest.mark.django_db


def _twin(serializer_class: type[rf.ModelSerializer[Any]]) -> type[drf.ModelSerializer[Any]]:
    """The same serializer on DRF's own ``ModelSerializer``."""
    namespace = {
        name: value for name, value in vars(serializer_class).items() if not name.startswith("__")
    }
    namespace.update(serializer_class._declared_fields)
    return type(f"DRF{serializer_class.__name__}", (drf.ModelSerializer,), namespace)


class AllFields(rf.ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = "__all__"


class Tuned(rf.ModelSerializer[Product]):
    """Declared (one write-only) and read-only fields, extra kwargs, a relation's queryset."""

    summary = drf.SerializerMethodField()
    price = drf.DecimalField(max_digits=10, decimal_places=2, coerce_to_string=False)
    note = drf.CharField(write_only=True, required=False)  # never in the output

    class Meta:
        model = Product
        fields = ["id", "name", "summary", "price", "note", "category", "is_top", "created_at"]
        read_only_fields = ["is_top"]
        extra_kwargs = {
            "name": {"style": {"placeholder": "Name"}, "help_text": "the name"},
            "category": {"queryset": Category.objects.filter(name__startswith="c")},
        }

    def get_summary(self, product: Product) -> str:
        return f"{product.name} ({product.price})"


class ReviewOut(rf.ModelSerializer[Review]):
    class Meta:
        model = Review
        fields = ["id", "product", "rating", "comment", "created_at"]


SERIALIZERS = [AllFields, Tuned, ReviewOut]


@pytest.mark.parametrize("serializer_class", SERIALIZERS)
def test_fields_match_drfs(serializer_class: type[rf.ModelSerializer[Any]]) -> None:
    twin = _twin(serializer_class)
    first = serializer_class()
    assert first.fields  # built by DRF's get_fields(); the recipe is kept
    assert rf._recipes[serializer_class]
    second = serializer_class()  # made from the recipe
    expected = repr(twin()).replace(twin.__name__, serializer_class.__name__)
    assert repr(first) == repr(second) == expected
    assert [type(f) for f in second.fields.values()] == [type(f) for f in twin().fields.values()]


@pytest.mark.parametrize("serializer_class", SERIALIZERS)
def test_output_matches_drfs(serializer_class: type[rf.ModelSerializer[Any]]) -> None:
    category = Category.objects.create(name="cups")
    product = Product.objects.create(name="mug", price=Decimal("4.50"), category=category)
    review = Review.objects.create(product=product, rating=4, comment="fine")
    row = review if serializer_class is ReviewOut else product
    twin = _twin(serializer_class)
    assert serializer_class(row).fields  # the first instance keeps the recipe
    ours, theirs = serializer_class(row).data, twin(row).data
    assert list(ours.items()) == list(theirs.items())  # the same keys, in the same order
    assert "note" not in ours
    assert serializer_class([row, row], many=True).data == twin([row, row], many=True).data


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"name": "", "price": "x"},
        {"name": "mug", "price": "1.234", "category": 999},
        {"name": "a" * 101, "price": "1", "category": "nope"},
        {"name": "ok", "price": "3.10"},
    ],
)
def test_validation_matches_drfs(data: dict[str, Any]) -> None:
    Product.objects.create(name="mug", price=Decimal("1.00"))
    for serializer_class in (AllFields, Tuned):
        twin = _twin(serializer_class)
        assert serializer_class(data=data).fields
        ours, theirs = serializer_class(data=data), twin(data=data)
        assert ours.is_valid() == theirs.is_valid()
        assert ours.errors == theirs.errors
        assert ours.validated_data == theirs.validated_data


def test_instances_share_no_mutable_arguments() -> None:
    assert Tuned().fields
    first, second = Tuned(), Tuned()
    first.fields["name"].style["placeholder"] = "changed"
    assert second.fields["name"].style == {"placeholder": "Name"}
    one: Any = first.fields["category"]
    two: Any = second.fields["category"]
    assert one.queryset is not two.queryset  # each its own unevaluated copy
    assert str(one.queryset.query) == str(two.queryset.query)
    first.fields.pop("price")
    assert "price" in second.fields


class OverridesBuildField(rf.ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = ["id", "name"]

    def build_field(self, *args: Any, **kwargs: Any) -> tuple[type[Field[Any, Any, Any, Any]], Any]:
        field_class, field_kwargs = super().build_field(*args, **kwargs)
        return field_class, {**field_kwargs, "help_text": f"built for {id(self)}"}


class Nested(rf.ModelSerializer[Review]):
    class Meta:
        model = Review
        fields = ["id", "product"]
        depth = 1


class ManyToMany(rf.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ["id", "username", "groups"]


@pytest.mark.parametrize("serializer_class", [OverridesBuildField, Nested, ManyToMany])
def test_custom_or_nested_building_keeps_drfs_way(
    serializer_class: type[rf.ModelSerializer[Any]],
) -> None:
    first = serializer_class()
    first_fields = dict(first.fields)
    assert rf._recipes[serializer_class] == ()
    second = serializer_class()
    assert repr(second).replace(str(id(second)), "") == repr(first).replace(str(id(first)), "")
    for name, field in second.fields.items():
        assert field is not first_fields[name]


def test_nested_and_many_to_many_fields_are_never_shared() -> None:
    Group.objects.create(name="staff")
    assert Nested().fields
    assert ManyToMany().fields
    assert Nested().fields["product"] is not Nested().fields["product"]
    one: Any = ManyToMany().fields["groups"]
    two: Any = ManyToMany().fields["groups"]
    assert one.child_relation is not two.child_relation


def test_classes_made_on_the_fly_are_not_kept_alive() -> None:
    made = type(
        "Made",
        (rf.ModelSerializer,),
        {"Meta": type("Meta", (), {"model": Product, "fields": ["id"]})},
    )
    assert made().fields
    assert made().fields
    assert made in rf._recipes
    gone = weakref.ref(made)
    del made
    gc.collect()
    assert gone() is None
