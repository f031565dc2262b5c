"""The demo shop's API: async viewsets on restflow."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import parsers, serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from restflow.filters import OrderingFilter, SearchFilter
from restflow.parsers import JSONParser, translate_body_error
from restflow.permissions import AllowAny
from restflow.views import ActionConfig, AsyncAPIView, AsyncModelViewSet, PostFetch
from shop.models import Product, Review
from shop.serializers import ProductSerializer, ReviewRow, ReviewSerializer

#: The newest review of each product on a page, in one query per page.
LATEST_REVIEW: PostFetch[ReviewRow] = PostFetch(
    queryset=Review.objects.all(),
    to_attr="latest_review",
    values=["id", "rating", "comment"],
    order_by=["-created_at", "-id"],
    limit=1,
    product_id="id",
)


class ProductViewSet(AsyncModelViewSet[Product, ProductSerializer]):
    """Products: anyone reads, authenticated users write."""

    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    filter_backends = [SearchFilter, OrderingFilter]
    search_fields = ["name"]
    ordering_fields = ["name", "price", "created_at"]
    ordering = ["id"]

    async def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        products = await self.afilter_queryset(self.get_queryset())
        return await self.apaginated_response(products, post_fetches=[LATEST_REVIEW])

    async def aget_object(self) -> Product:
        # The detail (and the answer to an update) shows the same latest review as the list.
        product = await super().aget_object()
        await LATEST_REVIEW.afetch([product])
        return product


class ReviewViewSet(AsyncModelViewSet[Review, ReviewSerializer]):
    """Reviews; listing them needs no pagination in this demo."""

    queryset = Review.objects.select_related("product")
    serializer_class = ReviewSerializer
    action_configs = {"list": ActionConfig(pagination_class=None)}


class HealthView(AsyncAPIView):
    """A trivial async endpoint: no database, no worker thread."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    # No serializer describes this ad-hoc body: the OpenAPI schema needs it spelled out.
    @extend_schema(responses=inline_serializer("Health", {"status": serializers.CharField()}))
    async def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class ObtainToken(ObtainAuthToken):
    """Log in: trade a username and password for the user's API token."""

    # DRF's ``obtain_auth_token`` answers JSON nested too deeply with a 500 and an
    # over-limit body with Django's HTML page; restflow's parser and translation make
    # them a 400 and a 413 with JSON bodies, as on restflow's own views.
    parser_classes = [parsers.FormParser, parsers.MultiPartParser, JSONParser]

    def handle_exception(self, exc: Exception) -> Response:
        return super().handle_exception(translate_body_error(exc, self.request))


@csrf_exempt  # it changes nothing: a POST gets the same 404 as a GET, not a CSRF 403
async def api_not_found(request: HttpRequest) -> HttpResponse:
    """Any URL under ``/api/`` that no route matches: DRF's JSON 404, never an HTML page.

    As Django's ``APPEND_SLASH`` would, a path that matches once a slash is added is
    redirected there first.
    """
    if settings.APPEND_SLASH and not request.path_info.endswith("/"):
        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
    body = {"detail": str(NotFound.default_detail)}
    return JsonResponse(body, status=404, json_dumps_params={"separators": (",", ":")})
