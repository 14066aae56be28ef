from __future__ import annotations

import textwrap

import pytest

from flake8_celery_django.api import check_source
from flake8_celery_django.project.facts import CallSiteFact, FieldFact, ModelFact, ModuleFacts
from flake8_celery_django.project.knowledge import NO_PROJECT, ProjectKnowledge
from flake8_celery_django.settings import Settings
from tests.cases import Case, all_codes_settings, assert_case, invalid, valid
from tests.project_cases import project_findings

CASES: list[Case] = [
    # -- CDJ401 -----------------------------------------------------------------------------------
    invalid(
        "CDJ401",
        """
        from shop.models import OrderLine, Product
        def import_lines(order, rows):
            for row in rows:
                OrderLine.objects.create(order=order, **row)
            for row in rows:
                product = Product(name=row["name"])
                product.save()
                product.save()
            while rows:
                Product(name=rows.pop()).save()
        """,
        (5, 8), (8, 8), (11, 8),
    ),
    invalid(
        "CDJ401",
        """
        from shop.models import OrderLine
        async def import_lines(order, rows):
            async for row in rows:
                await OrderLine.objects.acreate(order=order, **row)
            [OrderLine.objects.create(order=order, **row) for row in rows]
        """,
        (5, 14), (6, 5),
    ),
    valid(
        "CDJ401",
        """
        from shop.models import OrderLine, Product
        def import_lines(order, rows, kinds):
            OrderLine.objects.bulk_create([OrderLine(order=order, **row) for row in rows])
            OrderLine.objects.create(order=order)
            for row in rows:
                if row["ok"]:
                    OrderLine.objects.create(order=order, **row)
                    return
            for kind in ("a", "b"):
                Product.objects.create(name=kind)
            for model in kinds:
                model.objects.create(order=order)
            for row in rows:
                def later():
                    OrderLine.objects.create(order=order, **row)
            for row in rows:
                try:
                    product = Product.objects.get(name=row)
                except Product.DoesNotExist:
                    product = Product(name=row)
                product.save()
        """,
    ),
    valid(
        "CDJ401",
        """
        from shop.models import OrderLine
        def test_import_lines(order, rows):
            for row in rows:
                OrderLine.objects.create(order=order, **row)
        """,
    ),
    # -- CDJ409 -----------------------------------------------------------------------------------
    invalid(
        "CDJ409",
        """
        from shop.models import Tag
        async def tag_all(request, names, product):
            for name in names:
                Tag.objects.get_or_create(name=name)
            for row in request.data["tags"]:
                Tag.objects.update_or_create(name=row["name"], defaults={"color": row["color"]})
            tags = [Tag.objects.filter(shop=product.shop).get_or_create(name=n)[0] for n in names]
            async for line in product.lines.all():
                await Tag.objects.aget_or_create(name=line.name)
                await Tag.objects.aupdate_or_create(name=line.name)
        """,
        (5, 8), (7, 8), (8, 12), (10, 14), (11, 14),
    ),
    valid(
        "CDJ409",
        """
        from django.conf import settings
        from shop.models import Language, Tag
        def seed(names, models, helper):
            Tag.objects.get_or_create(name="default")
            for code, _ in settings.LANGUAGES:
                Language.objects.get_or_create(code=code)
            for name in ("red", "green"):
                Tag.objects.get_or_create(name=name)
            for model in models:
                model.objects.get_or_create(name="x")
            for name in names:
                tag, created = Tag.objects.get_or_create(name=name)
                return tag
            for name in helper.names():
                Tag.objects.get_or_create(name=name)
            for i, name in enumerate(names):
                if i == 0:
                    Tag.objects.get_or_create(name=name)
            for name in names:
                cache = {}
                cache.get_or_create(name)
        """,
    ),
    # A post_migrate handler runs once per ``migrate``, like a data migration.
    valid(
        "CDJ409",
        """
        def create_statuses(app_config=None, verbosity=2, interactive=True, apps=None, models=None, **kwargs):
            Status = apps.get_model("extras.Status")
            for choice in models:
                Status.objects.get_or_create(name=choice)
        def refresh_jobs(sender, *, apps, **kwargs):
            Job = apps.get_model("extras.Job")
            for name in kwargs["names"]:
                Job.objects.get_or_create(name=name)
        """,
    ),
    invalid(
        "CDJ409",
        """
        def create_statuses(apps, models):
            Status = apps.get_model("extras.Status")
            for choice in models:
                Status.objects.get_or_create(name=choice)
        """,
        (5, 8),
    ),
    # -- what a loop iterates: only data with no visible bound is reported ------------------------
    invalid(
        "CDJ401",
        """
        from shop.models import Line, Order, Tag
        def import_lines(request, serializer, order: Order, rows, n):
            for row in request.data:
                Line.objects.create(order=order, **row)
            for pk in request.POST.getlist("ids"):
                Line.objects.create(order=order, pk=pk)
            lines = serializer.validated_data.pop("lines") if "lines" in serializer.validated_data else []
            for line in lines:
                Line.objects.create(order=order, **line)
            for i in range(100):
                Line.objects.create(order=order, position=i)
            for i in range(len(rows)):
                Line.objects.create(order=order, **rows[i])
            for pk in Order.objects.values_list("pk", flat=True):
                Line.objects.create(order_id=pk)
            for other in Order.objects.filter(paid=True)[:100]:
                Line.objects.create(order=other)
            tagged = Order.objects.filter(tags__isnull=False) | Order.objects.filter(paid=True)
            for pk in tagged.values_list("pk", flat=True):
                Line.objects.create(order_id=pk)
            for name in order.tag_names:
                Tag.objects.create(name=name)
            for other in progress(Order.objects.iterator(), total=n):
                Line.objects.create(order=other)
            while rows:
                Line.objects.create(order=order, **rows.pop())
        """,
        (5, 8), (7, 8), (10, 8), (12, 8), (14, 8), (16, 8), (18, 8), (21, 8), (23, 8), (25, 8), (27, 8),
    ),
    valid(
        "CDJ401",
        """
        from django.conf import settings
        from shop.models import Line, Order
        from shop.choices import Status
        KINDS = ("a", "b")
        def seed(order, formset, helper):
            for kind in ["a", "b", "c"]:
                Line.objects.create(order=order, kind=kind)
            for position in range(1, 11):
                Line.objects.create(order=order, position=position)
            for kind in KINDS:
                Line.objects.create(order=order, kind=kind)
            for status in Status:
                Line.objects.create(order=order, status=status)
            for value, label in Status.choices:
                Line.objects.create(order=order, status=value)
            for code in settings.LINE_CODES:
                Line.objects.create(order=order, code=code)
            for field in Order._meta.get_fields():
                Line.objects.create(order=order, name=field.name)
            for line in formset.save(commit=False):
                Line.objects.create(order=order, copy_of=line)
            for other in Order.objects.all()[:5]:
                Line.objects.create(order=other)
            for row in helper.rows():
                Line.objects.create(order=order, **row)
            pending = []
            for row in pending:
                Line.objects.create(order=order, **row)
            while True:
                Line.objects.create(order=order)
        """,
    ),
    # A filter on the primary key or a unique field selects one row at most: nothing to batch.
    valid(
        "CDJ402",
        """
        from django.db import models
        class Ticket(models.Model):
            code = models.CharField(max_length=8, unique=True)
            holder = models.OneToOneField("shop.Person", on_delete=models.CASCADE)
        def close(pk, code, person_id):
            for ticket in Ticket.objects.filter(pk=pk):
                ticket.open = False
                ticket.save()
            locked = Ticket.objects.select_for_update().filter(code__exact=code)
            for ticket in locked:
                ticket.open = False
                ticket.save()
            for ticket in Ticket.objects.filter(holder_id=person_id).select_related("holder"):
                ticket.open = False
                ticket.save()
        """,
    ),
    invalid(
        "CDJ402",
        """
        from django.db import models
        class Ticket(models.Model):
            code = models.CharField(max_length=8)
            event = models.ForeignKey("shop.Event", on_delete=models.CASCADE)
        def close(pk, code, event, ids):
            for ticket in Ticket.objects.filter(code=code):
                ticket.open = False
                ticket.save()
            for ticket in Ticket.objects.filter(event=event):
                ticket.open = False
                ticket.save()
            for ticket in Ticket.objects.filter(pk__in=ids):
                ticket.open = False
                ticket.save()
            for ticket in Ticket.objects.filter(code__startswith=code):
                ticket.open = False
                ticket.save()
        """,
        (9, 8), (12, 8), (15, 8), (18, 8),
    ),
    # A row saved as it was read writes nothing new: save() runs for its signals or auto_now fields.
    valid(
        "CDJ402",
        """
        import logging
        from shop.models import Review
        log = logging.getLogger(__name__)
        def resave(start, end):
            for review in Review.objects.filter(modified__range=[start, end]):
                attempt_code = review.attempt_code
                log.info("Saving review %s (%s) of %s", review.id, review.exam_id, attempt_code)
                review.save()
        """,
    ),
    invalid(
        "CDJ402",
        """
        from shop.models import Review
        def refresh(start, fill, reviewer):
            for review in Review.objects.filter(modified__gte=start):
                review.compute_score()
                review.save()
            for review in Review.objects.filter(modified__gte=start):
                fill(review)
                review.save()
            for review in Review.objects.filter(modified__gte=start):
                review.data["seen"] = True
                review.save()
            for review in Review.objects.filter(modified__gte=start):
                review.count += 1
                review.save(update_fields=["count"])
            for review in Review.objects.filter(modified__gte=start):
                setattr(review, "reviewer", reviewer)
                review.save()
            for review in Review.objects.filter(modified__gte=start):
                fill(review.title)
                review.save()
        """,
        (6, 8), (9, 8), (12, 8), (15, 8), (18, 8), (21, 8),
    ),
    # The files of one upload are few (Django accepts DATA_UPLOAD_MAX_NUMBER_FILES, 100 by default);
    # a person answering at the terminal paces the loop.
    valid(
        "CDJ401",
        """
        from getpass import getpass
        from shop.models import Attachment, Language, User
        def upload(request, languages, names):
            for key, upload in request.FILES.items():
                Attachment.objects.create(name=key, file=upload)
            for upload in self.request.FILES.getlist("documents"):
                Attachment.objects.create(file=upload)
            for code in languages:
                if input(f"Add {code}? ") == "y":
                    Language(code=code).save()
            for name in names:
                User.objects.create(name=name, password=getpass())
        """,
    ),
    invalid(
        "CDJ401",
        """
        from shop.models import Attachment, Line, Language
        def upload(request, languages):
            for key, upload in request.FILES.items():
                for row in upload:
                    Line.objects.create(text=row)
            for upload in request.FILES.getlist("documents"):
                Attachment.objects.create(file=upload)
            for code in languages:
                def ask():
                    return input(code)
                Language(code=code).save()
            for code in languages:
                for answer in [input(code)]:
                    pass
                for name in request.POST.getlist("names"):
                    Language.objects.create(code=code, name=name)
        """,
        (6, 12), (12, 8), (17, 12),
    ),
    invalid(
        "CDJ404",
        """
        from shop.models import Unit
        def log_sets(formset):
            for entry in [i for i in formset.save(commit=False) if i.reps]:
                entry.unit = Unit.objects.get(pk=1)
            for entry in formset.save(commit=False):
                Unit.objects.get(pk=entry.unit_id)
            for kind in ("kg", "lb"):
                Unit.objects.get(pk=1)
        """,
        (5, 21),
    ),
    # -- upserts, inserts that happen once ---------------------------------------------------------
    valid(
        "CDJ401",
        """
        from django.db import IntegrityError
        from shop.models import Product, Tag
        def sync(rows, token):
            for row in rows:
                try:
                    Product.objects.get(sku=row["sku"])
                except Product.DoesNotExist:
                    Product.objects.create(sku=row["sku"])
            for row in rows:
                tag = Tag.objects.filter(name=row).first()
                if tag is None:
                    tag = Tag.objects.create(name=row)
            for row in rows:
                tag = Tag.objects.filter(name=row).last()
                if tag:
                    tag.save()
                else:
                    Tag(name=row).save()
            for row in rows:
                if not Tag.objects.filter(name=row).exists():
                    Tag.objects.create(name=row)
            for row in rows:
                listed = Tag.objects.filter(name=row).exists()
                if not listed:
                    Tag.objects.create(name=row)
            for attempt in range(1000):
                try:
                    Tag.objects.create(name=token())
                except IntegrityError:
                    continue
                break
            first = True
            for row in rows:
                if first:
                    Tag.objects.create(name="header")
                    first = False
            for i, row in enumerate(rows):
                if i == 0:
                    Tag.objects.create(name=row)
            for row in rows:
                Tag(id=row["id"], name=row["name"]).save()
                tag = Tag(pk=row["id"], name=row["name"])
                tag.save()
        """,
    ),
    invalid(
        "CDJ401",
        """
        from shop.models import Tag
        def sync(rows, lookup, flag):
            for row in rows:
                tag = lookup(row)
                if tag is None:
                    Tag.objects.create(name=row)
                try:
                    Tag.objects.get(name=row)
                except ValueError:
                    Tag.objects.create(name=row)
                if flag:
                    Tag.objects.create(name=row)
            for i, row in enumerate(rows):
                if i == 1:
                    Tag.objects.create(name=row)
            for row in rows:
                listed = Tag.objects.filter(name=row).exists()
                if listed:
                    Tag.objects.create(name=f"{row} again")
        """,
        (7, 12), (11, 12), (13, 12), (16, 12), (20, 12),
    ),
    valid(
        "CDJ403",
        """
        from django.db import models
        from shop.models import Order
        class Attachment(models.Model):
            def delete(self, *args, **kwargs):
                self.file.delete()
                super().delete(*args, **kwargs)
        def purge(ids):
            for attachment in Attachment.objects.filter(order_id__in=ids):
                attachment.delete()
            while Order.objects.filter(paid=False).exists():
                batch = Order.objects.filter(paid=False).values_list("pk", flat=True)[:1000]
                Order.objects.filter(pk__in=list(batch)).delete()
            while True:
                Order.objects.filter(paid=False, created__lt=ids[0]).delete()
            for start in ids:
                Order.objects.filter(id__range=(start, start + 999)).delete()
                Order.objects.filter(pk__lt=start).delete()
        """,
    ),
    # -- CDJ402 -----------------------------------------------------------------------------------
    invalid(
        "CDJ402",
        """
        from shop.models import Order
        def mark_paid(ids, orders, models, values):
            for order in Order.objects.filter(pk__in=ids):
                order.paid = True
                order.save()
            for order in Order.objects.filter(customer__in=orders):
                order.paid = True
                order.save(update_fields=["paid"])
            for pk in ids:
                Order.objects.filter(pk=pk).update(paid=True)
            for model in models:
                for value in values:
                    model.objects.filter(name=value).update(name=value.lower())
            for org in ids:
                Order.objects.filter(org=org).exclude(pk__in=ids).update(paid=True)
        """,
        (6, 8), (9, 8), (11, 8), (14, 12), (16, 8),
    ),
    valid(
        "CDJ402",
        """
        from django.db import models
        from shop.models import Order
        class Invoice(models.Model):
            def save(self, *args, **kwargs):
                self.total = sum(line.amount for line in self.lines.all())
                super().save(*args, **kwargs)
        def recompute(customer, orders, ids):
            # bulk_update() would skip Invoice.save(); rows of an unknown model may have their own save().
            for invoice in Invoice.objects.filter(customer=customer):
                invoice.save()
            for order in orders:
                order.paid = True
                order.save(update_fields=["paid"])
            for order in customer.orders.all():
                order.paid = True
                order.save()
        """,
    ),
    valid(
        "CDJ402",
        """
        from django.db.models import F, expressions
        from django.db.models.functions import Greatest
        from shop.models import Order, Voucher
        def mark_paid(ids, forms, entries, models, groups, querysets):
            Order.objects.filter(pk__in=ids).update(paid=True)
            for form in forms:
                form.save()
            for name in entries:
                entries[name].save()
            for order in Order.objects.filter(pk__in=ids):
                order.pk = None
                order.save()
            for order in Order.objects.filter(pk__in=ids):
                order.save(force_insert=True)
            for model in models:
                model.objects.filter(paid=False).update(paid=True)
            for group in groups:
                Order.objects.filter(pk__in=group.ids).update(total=group.total)
            for key in ids:
                scoped = querysets[key]
                stale = scoped.filter(paid=False)
                stale.update(paid=True)
                querysets[key].filter(paid=False).update(paid=True)
            settings = {}
            for key in ids:
                settings.update({key: 1})
            orders = list(Order.objects.filter(pk__in=ids))
            for order in orders:
                order.paid = True
            Order.objects.bulk_update(orders, ["paid"])
            # Counters moved in the database, one row at a time on purpose.
            for order in Order.objects.filter(customer__in=ids):
                Voucher.objects.filter(pk=order.voucher_id).update(redeemed=F("redeemed") - 1)
                Voucher.objects.filter(pk=order.voucher_id).update(redeemed=Greatest(0, expressions.F("redeemed") - 1))
        """,
    ),
    # -- CDJ403 -----------------------------------------------------------------------------------
    invalid(
        "CDJ403",
        """
        from shop.models import Order
        def purge(ids, customer, forms):
            for order in Order.objects.filter(paid=False):
                order.delete()
            for pk in ids:
                Order.objects.filter(pk=pk).delete()
                Order.objects.get(pk=pk).delete()
            for order in Order.objects.filter(customer=customer):
                order.delete()
            for form in forms:
                Order.objects.filter(customer__in=form.customers).delete()
            for order in Order.objects.all():
                order.lines.all().delete()
        """,
        (5, 8), (7, 8), (8, 8), (10, 8), (12, 8), (14, 8),
    ),
    valid(
        "CDJ403",
        """
        def purge(customer, queryset):
            # Rows of a model this file cannot name may be deleted through their own delete().
            for order in customer.orders.all():
                order.delete()
            for row in queryset.filter(stale=True):
                row.delete()
            for row in cls.objects.filter(stale=True):
                row.delete()
        """,
    ),
    valid(
        "CDJ403",
        """
        from django.core.cache import cache
        from shop.models import Order
        def purge(ids, files, documents, batches):
            Order.objects.filter(pk__in=ids).delete()
            for key in ids:
                cache.delete(key)
            for f in files:
                f.delete()
            for document in Order.objects.filter(paid=False):
                document.delete(to_trash=False)
            for batch in batches:
                Order.objects.filter(pk__in=batch).delete()
                Order.objects.filter(customer_id__in=batch).delete()
        """,
    ),
    # -- CDJ404 -----------------------------------------------------------------------------------
    invalid(
        "CDJ404",
        """
        from django.shortcuts import get_list_or_404, get_object_or_404
        from shop.models import Customer, Order, Product
        def report(ids, names):
            for pk in ids:
                Order.objects.get(pk=pk)
            for pk in ids:
                Order.objects.filter(customer_id=pk).first()
            for pk in ids:
                Order.objects.filter(customer_id=pk).count()
            for pk in ids:
                get_object_or_404(Product, pk=pk)
            for pk in ids:
                list(Order.objects.filter(customer_id=pk))
            for pk in ids:
                for product in Product.objects.filter(pk=pk):
                    pass
            return [Customer.objects.filter(name=n).exists() for n in names]
        def latest(ids, cache):
            for pk in ids:
                Order.objects.filter(customer_id=pk).order_by("-pk")[0]
            for pk in ids:
                get_list_or_404(Order, customer_id=pk)
            for pk in ids:
                if pk not in cache:
                    cache[pk] = Order.objects.filter(customer_id=pk).count()
        """,
        (6, 8), (8, 8), (10, 8), (12, 8), (14, 13), (16, 23), (18, 12), (21, 8), (23, 8), (26, 24),
    ),
    # One finding per loop, at its first query, however many it runs, also in a few-item loop
    # inside it; an unbounded loop inside it is a decision of its own.
    invalid(
        "CDJ404",
        """
        from shop.models import Order, Product
        def report(ids, kinds):
            for pk in ids:
                Order.objects.get(pk=pk)
                Order.objects.filter(customer_id=pk).count()
                for kind in ("a", "b"):
                    Product.objects.filter(kind=kind, order_id=pk).exists()
            for pk in ids:
                for product in Product.objects.filter(order_id=pk):
                    Order.objects.get(pk=product.order_id)
        """,
        (5, 8), (10, 23), (11, 12),
    ),
    # A query that asks the same every time is moved out as it is: a finding of its own.
    invalid(
        "CDJ404",
        """
        from shop.models import Group, Order
        def regroup(ids, group_id):
            for pk in ids:
                order = Order.objects.get(pk=pk)
                group = Group.objects.get(pk=group_id)
                Group.objects.filter(pk=order.group_id).exists()
                Group.objects.count()
        """,
        (5, 16), (6, 16),
    ),
    invalid(
        "CDJ404",
        """
        from shop.models import Product
        def report(groups):
            products = Product.objects.filter(stock__gt=0)
            for group in groups:
                products.filter(group=group).exists()
            return [p for g in groups for p in Product.objects.filter(group=g)]
        """,
        (6, 8), (7, 39),
    ),
    valid(
        "CDJ404",
        """
        from django.db import transaction
        from shop.models import Order
        def drain(queue):
            for item in queue:
                with transaction.atomic():
                    order = Order.objects.select_for_update(nowait=True).get(pk=item.order_id)
                    locked = Order.objects.select_for_update().filter(pk=item.order_id).first()
        """,
    ),
    valid(
        "CDJ404",
        """
        from shop.models import Order, Product
        def report(self, ids, data, models):
            orders = Order.objects.in_bulk(ids)
            for pk in ids:
                data.get(pk)
                orders.get(pk)
            for order in Order.objects.filter(pk__in=ids):
                pass
            lazy = [Product.objects.filter(pk=pk) for pk in ids]
            while not Order.objects.filter(paid=True).exists():
                pass
            for model in models:
                model.objects.count()
            for form in data:
                related = form.Meta.model
                related.objects.filter(pk__in=ids).count()
            for pk in ids:
                try:
                    return Order.objects.get(pk=pk)
                except Order.DoesNotExist:
                    continue
            product = None
            for pk in ids:
                if product is None:
                    product = Product.objects.get(pk=1)
                if not self.order:
                    self.order = Order.objects.first()
        """,
    ),
    # A loop over batches reads one batch per iteration: the remedy, already applied.
    valid(
        "CDJ404",
        """
        from shop.models import Product
        def index(ids, batches):
            products = Product.objects.filter(pk__in=ids).order_by("pk")
            for chunk in queryset_in_batches(products, 500):
                batch = list(Product.objects.filter(id__in=chunk))
                Product.objects.filter(pk__in=[p.pk for p in batch], stock__gt=0).count()
            for batch in batches:
                Product.objects.filter(category_id__in=batch.categories).exists()
        """,
    ),
    invalid(
        "CDJ404",
        """
        from shop.models import Product
        def index(ids):
            for pk in ids:
                Product.objects.filter(pk__in=[pk]).first()
            for pk in ids:
                Product.objects.filter(pk__in=ids).count()
        """,
        (5, 8), (7, 8),
    ),
    # -- CDJ405 -----------------------------------------------------------------------------------
    invalid(
        "CDJ405",
        """
        from shop.models import Order
        def totals():
            for order in Order.objects.filter(paid=True):
                order.lines.count()
                for line in order.lines.all():
                    pass
            orders = Order.objects.select_related("customer")
            return [o.lines.filter(quantity__gt=1).exists() for o in orders]
        """,
        (5, 8), (6, 20), (9, 12),
    ),
    valid(
        "CDJ405",
        """
        from django.db.models import Prefetch, prefetch_related_objects
        from shop.models import Order, OrderLine
        def totals(orders_param, lookups):
            for order in Order.objects.prefetch_related("lines"):
                order.lines.all()
            for order in Order.objects.prefetch_related("lines__product"):
                order.lines.count()
            for order in Order.objects.prefetch_related(Prefetch("lines", queryset=OrderLine.objects.all())):
                order.lines.all()
            for order in Order.objects.prefetch_related(*lookups):
                order.lines.all()
            orders = Order.objects.all()
            orders = orders.prefetch_related("lines")
            for order in orders:
                order.lines.all()
            later = Order.objects.all()
            prefetch_related_objects(later, "lines")
            for order in later:
                order.lines.all()
            for order in orders_param:
                order.lines.all()
            for order in Order.objects.all():
                order.customer.name
                order.tags.count("x")
                order.data.get("key")
        """,
    ),
    invalid(
        "CDJ405",
        """
        from django.db.models import Prefetch
        from shop.models import Order
        def totals():
            for order in Order.objects.prefetch_related(Prefetch("lines", to_attr="cached")):
                order.lines.all()
        """,
        (6, 8),
    ),
    valid(
        "CDJ405",
        """
        from django.db import models
        class Named(models.Model):
            class Meta:
                abstract = True
            def siblings(self):
                return type(self).objects.filter(name=self.name)
        class Device(Named):
            name = models.CharField(max_length=10)
            @property
            def vc_interfaces(self):
                return Interface.objects.filter(device__chassis=self.chassis)
        class Interface(models.Model):
            device = models.ForeignKey(Device, related_name="ports", on_delete=models.CASCADE)
        def interface_ids():
            ids = []
            for device in Device.objects.all():
                ids.extend(device.vc_interfaces.values_list("id", flat=True))
                ids.extend(device.siblings().values_list("id", flat=True))
            return ids
        """,
    ),
    invalid(
        "CDJ405",
        """
        from django.db import models
        class Device(models.Model):
            name = models.CharField(max_length=10)
            @property
            def vc_interfaces(self):
                return Interface.objects.filter(device__name=self.name)
        class Interface(models.Model):
            device = models.ForeignKey(Device, related_name="ports", on_delete=models.CASCADE)
        def interface_ids():
            return [device.ports.values_list("id", flat=True) for device in Device.objects.all()]
        class Order(models.Model):
            @property
            def fees(self):
                return self.all_fees(manager="objects")
        class Fee(models.Model):
            order = models.ForeignKey(Order, related_name="all_fees", on_delete=models.CASCADE)
        def with_fees():
            return [o for o in Order.objects.all() if o.fees.filter(kind="x").exists()]
        """,
        (11, 12), (19, 46),
    ),
    valid(
        "CDJ405",
        """
        from django.db import models
        class Customer(models.Model):
            name = models.CharField(max_length=10)
            account = models.ForeignKey("Account", on_delete=models.CASCADE)
        def names():
            for customer in Customer.objects.all():
                customer.name.count()
                customer.account.filter()
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=Case.id)
def test_orm_loop_cases(case: Case) -> None:
    assert_case(case)


@pytest.mark.parametrize("case", CASES, ids=Case.id)
def test_orm_loop_cases_with_only_that_rule(case: Case) -> None:
    """A rule selected alone reports what it reports with every rule on."""
    settings = Settings(enabled=frozenset({case.code}), **case.options)  # type: ignore[arg-type]
    findings = check_source(case.source, "example.py", settings, strict=True)
    assert [(f.line, f.col) for f in findings] == list(case.expected)


LOOPED_WRITES = """
from shop.models import OrderLine
def import_lines(order, rows):
    for row in rows:
        OrderLine.objects.create(order=order, **row)
"""


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("shop/services.py", [(5, 8)]),
        ("shop/tests/test_import.py", []),
        ("shop/tests.py", []),
        ("shop/testing.py", []),
        ("shop/migrations/0002_fill.py", []),
        ("shop/utils/migrations.py", []),
    ],
)
def test_tests_and_migrations_are_skipped(filename: str, expected: list[tuple[int, int]]) -> None:
    findings = check_source(LOOPED_WRITES, filename, all_codes_settings(), strict=True)
    assert [(f.line, f.col) for f in findings if f.code == "CDJ401"] == expected


def test_delete_message_fits_rows_and_querysets() -> None:
    source = textwrap.dedent(
        """
        from shop.models import Order
        def purge(customers):
            for order in Order.objects.filter(paid=False):
                order.delete()
            for customer in customers:
                Order.objects.filter(customer=customer).delete()
        """
    )
    messages = [f.message for f in check_source(source, "x.py", all_codes_settings(), strict=True)]
    assert messages == [
        "CDJ403 order.delete() runs one DELETE per loop iteration; delete once with pk__in",
        "CDJ403 Order.objects.filter().delete() runs one DELETE per loop iteration; delete once with pk__in",
    ]


SEED_LINES = """
from shop.models import Line
def seed(order, kinds):
    for kind in kinds:
        Line.objects.create(order=order, kind=kind)
class Seeder:
    def run(self, order, kinds):
        for kind in kinds:
            Line.objects.create(order=order, kind=kind)
"""


def test_get_or_create_message_names_the_call_and_the_batch_remedy() -> None:
    source = textwrap.dedent(
        """
        from shop.models import Tag
        async def tag_all(names):
            for name in names:
                Tag.objects.filter(shop=None).get_or_create(name=name)
                await Tag.objects.aupdate_or_create(name=name)
        """
    )
    findings = check_source(source, "x.py", all_codes_settings(), strict=True)
    assert [(f.line, f.col, f.message) for f in findings] == [
        (5, 8, "CDJ409 Tag.objects.filter().get_or_create() queries per loop iteration; batch with bulk_create()"),
        (6, 14, "CDJ409 Tag.objects.aupdate_or_create() queries per loop iteration; batch with bulk_create()"),
    ]


DELETE_DOCUMENTS = """
from shop.models import Document
def purge(ids, names):
    for name in names:
        Document.objects.create(name=name)
    for document in Document.objects.filter(pk__in=ids):
        document.delete()
    for document in Document.objects.filter(pk__in=ids):
        document.archived = True
        document.save()
"""


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (ModelFact("shop.models.Document", overrides_delete=True), [(5, 8, "CDJ401"), (10, 8, "CDJ402")]),
        # bulk_create() skips save() too, but the corpus's labelled inserts include such models.
        (ModelFact("shop.models.Document", overrides_save=True), [(5, 8, "CDJ401"), (7, 8, "CDJ403")]),
        (ModelFact("shop.models.Document", bases=("shop.models.Stored",)), [(5, 8, "CDJ401"), (7, 8, "CDJ403")]),
        (ModelFact("shop.models.Document"), [(5, 8, "CDJ401"), (7, 8, "CDJ403"), (10, 8, "CDJ402")]),
    ],
)
def test_rows_written_one_by_one_through_their_own_save_or_delete_are_silent(
    model: ModelFact, expected: list[tuple[int, int, str]]
) -> None:
    stored = ModelFact("shop.models.Stored", abstract=True, overrides_save=True)
    project = ProjectKnowledge([ModuleFacts("shop.models", models=(model, stored))])
    assert project_findings(DELETE_DOCUMENTS, "shop.services", project) == expected


RETRIES = """
from shop.models import WebHook
def retry_all(pk):
    webhook = WebHook.objects.get(pk=pk)
    for retry in webhook.retries.all():
        retry.delete()
"""


@pytest.mark.parametrize(
    ("retry", "expected"),
    [
        (ModelFact("shop.models.Retry"), [(6, 8, "CDJ403")]),
        (ModelFact("shop.models.Retry", overrides_delete=True), []),
    ],
)
def test_related_rows_deleted_one_by_one_are_reported_when_the_index_knows_their_model(
    retry: ModelFact, expected: list[tuple[int, int, str]]
) -> None:
    webhook = ModelFact(
        "shop.models.WebHook", fields=(FieldFact("retries", "foreign_key", "shop.models.Retry", reverse=True),)
    )
    project = ProjectKnowledge([ModuleFacts("shop.models", models=(webhook, retry))])
    assert project_findings(RETRIES, "shop.services", project) == expected
    assert project_findings(RETRIES, "shop.services", NO_PROJECT) == []


def _calls(*sites: tuple[str, CallSiteFact]) -> ProjectKnowledge:
    return ProjectKnowledge([ModuleFacts("shop.views", calls=sites)])


@pytest.mark.parametrize(
    ("project", "expected"),
    [
        # Every caller passes a literal list (by position or by keyword): a handful of rows, silent.
        (
            _calls(
                ("shop.seeding.seed", CallSiteFact("shop.views.a", literal_arguments=frozenset({"1"}))),
                ("shop.seeding.seed", CallSiteFact("shop.views.b", literal_arguments=frozenset({"kinds"}))),
                ("shop.seeding.Seeder.run", CallSiteFact("shop.views.c", literal_arguments=frozenset({"1"}))),
            ),
            [],
        ),
        # One caller passes something else: reported.
        (
            _calls(
                ("shop.seeding.seed", CallSiteFact("shop.views.a", literal_arguments=frozenset({"1"}))),
                ("shop.seeding.seed", CallSiteFact("shop.views.b", literal_arguments=frozenset({"0"}))),
                ("shop.seeding.Seeder.run", CallSiteFact("shop.views.c", literal_arguments=frozenset({"0"}))),
            ),
            [(5, 8, "CDJ401"), (9, 12, "CDJ401")],
        ),
        # No caller in the project: a parameter is data from elsewhere.
        (ProjectKnowledge([]), [(5, 8, "CDJ401"), (9, 12, "CDJ401")]),
        (NO_PROJECT, [(5, 8, "CDJ401"), (9, 12, "CDJ401")]),
    ],
)
def test_parameters_filled_only_with_literals_by_every_caller_are_silent(
    project: ProjectKnowledge, expected: list[tuple[int, int, str]]
) -> None:
    assert project_findings(SEED_LINES, "shop.seeding", project) == expected


def test_the_loop_rules_are_off_by_default() -> None:
    source = textwrap.dedent(
        """
        from shop.models import Order, Tag
        def settle(names):
            for order in Order.objects.filter(paid=False):
                order.paid = True
                order.save()
                order.delete()
                Tag.objects.create(name=order.number)
                Tag.objects.get_or_create(name=order.number)
        """
    )
    assert [(f.line, f.code) for f in check_source(source, "x.py", Settings(), strict=True)] == []
    extended = Settings(enabled=Settings().enabled | {"CDJ401", "CDJ402", "CDJ403", "CDJ409"})
    assert [(f.line, f.code) for f in check_source(source, "x.py", extended, strict=True)] == [
        (6, "CDJ402"), (7, "CDJ403"), (8, "CDJ401"), (9, "CDJ409"),
    ]
