"""The one kind of list page of the API: newest first, cursor pages, strict input.

`{"results", "next", "previous"}`. A `page_size` that is not a whole number from 1
to `max_page_size`, or a mangled `cursor`, is 400 VALIDATION_ERROR (DRF would
silently fall back to the default page, so a client bug would go unnoticed), and
the schema says so (minimum, maximum).
"""

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request


class NewestFirstCursorPagination(CursorPagination):
    ordering = "-id"
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 50

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        # DRF's own field, for its messages (translated) and its notion of an integer.
        field = serializers.IntegerField(min_value=1, max_value=self.max_page_size)
        try:
            size: int = field.run_validation(raw)
        except ValidationError as exc:
            raise ValidationError({self.page_size_query_param: exc.detail}) from None
        return size

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            return super().decode_cursor(request)
        except NotFound:
            # A mangled cursor is bad input, not a missing page.
            raise ValidationError({self.cursor_query_param: [_("Invalid cursor.")]}) from None

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size, "default": self.page_size})
                parameter["description"] = f"1 to {self.max_page_size}, default {self.page_size}."
            elif parameter["name"] == self.cursor_query_param:
                parameter["description"] = "From `next` or `previous` of the previous page."
        return parameters
