"""Models used by the restflow test suite and the example project."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    name = models.CharField(max_length=100, unique=True)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    is_top = models.BooleanField(default=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Review(models.Model):
    product = models.ForeignKey(Product, related_name="reviews", on_delete=models.CASCADE)
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.rating}"


class Specimen(models.Model):
    """One column of (almost) every kind DRF's ModelSerializer maps, for differential tests."""

    class Size(models.TextChoices):
        SMALL = "s", "Small"
        LARGE = "l", "Large"

    title = models.CharField(max_length=50)
    body = models.TextField(blank=True)
    slug = models.SlugField(blank=True)
    email = models.EmailField(blank=True)
    url = models.URLField(blank=True)
    token = models.UUIDField(null=True)
    count = models.IntegerField(null=True)
    big = models.BigIntegerField(null=True)
    ratio = models.FloatField(null=True)
    amount = models.DecimalField(max_digits=12, decimal_places=4, null=True)
    flag = models.BooleanField(default=False)
    maybe = models.BooleanField(null=True)
    day = models.DateField(null=True)
    moment = models.TimeField(null=True)
    stamp = models.DateTimeField(null=True)
    span = models.DurationField(null=True)
    size = models.CharField(max_length=1, choices=Size.choices, blank=True)
    data = models.JSONField(null=True)
    category = models.ForeignKey(Category, null=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["id"]
