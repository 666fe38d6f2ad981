"""The two models django-scim2's documentation asks for: a user model with its SCIM user mixin and a group model
with its SCIM group mixin, members related through `scim_groups` / `user_set` as the library's adapters expect."""
from django.contrib.auth.models import AbstractUser
from django.db import models
from django_scim.models import AbstractSCIMGroupMixin, AbstractSCIMUserMixin


class Group(AbstractSCIMGroupMixin):
    name = models.CharField(max_length=254)


class User(AbstractSCIMUserMixin, AbstractUser):
    scim_groups = models.ManyToManyField(Group, related_name="user_set", blank=True)
