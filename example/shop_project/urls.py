"""URLs of the demo shop: the API under ``/api/``."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter
from shop.views import HealthView, ObtainToken, ProductViewSet, ReviewViewSet

router = DefaultRouter()
router.register("products", ProductViewSet, basename="product")
router.register("reviews", ReviewViewSet, basename="review")

urlpatterns = [
    path("api/", include(router.urls)),
    path("api/health/", HealthView.as_view(), name="health"),
    path("api/token/", ObtainToken.as_view(), name="token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
]
