"""URLs of the demo shop: the API under ``/api/``, its schema and log-in pages.

Every unmatched URL under ``/api/`` is a JSON 404 (``api_not_found``), whatever
``DEBUG`` says; ``/`` redirects to the API root.
"""

from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter
from shop.views import HealthView, ObtainToken, ProductViewSet, ReviewViewSet, api_not_found

router = DefaultRouter()
router.register("products", ProductViewSet, basename="product")
router.register("reviews", ReviewViewSet, basename="review")

urlpatterns = [
    path("", RedirectView.as_view(url="/api/"), name="home"),
    path("api/", include(router.urls)),
    path("api/health/", HealthView.as_view(), name="health"),
    path("api/token/", ObtainToken.as_view(), name="token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/schema/swagger-ui/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/schema/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api-auth/", include("rest_framework.urls")),
    re_path(r"^api/", api_not_found),
]
