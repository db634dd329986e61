from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import two_factor
from accounts.models import OidcIdentity, Profile, RetentionPolicy, User


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    readonly_fields = ("verified_fields", "verified_at", "verified_by")


class OidcIdentityInline(admin.TabularInline):
    """SPID/CIE identities: shown, and removable (unlinking), never typed in by hand."""

    model = OidcIdentity
    extra = 0
    fields = ("issuer", "subject", "created_at", "last_login_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    add_form = UserCreationForm
    form = UserEditForm
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff", "is_active")
    search_fields = ("email", "first_name", "last_name")
    inlines = [ProfileInline, OidcIdentityInline]
    actions = ["reset_second_factor"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Dati personali"), {"fields": ("first_name", "last_name", "language")}),
        (
            _("Permessi"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Date"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )

    @admin.action(description=_("Azzera il secondo fattore"), permissions=["change"])
    def reset_second_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        """A colleague lost the phone and the backup codes: they set the app up again."""
        users = list(queryset)
        for user in users:
            two_factor.reset_second_factor(user=user, actor=request.user)
        self.message_user(
            request,
            ngettext(
                "Secondo fattore azzerato per %(count)d utente: al prossimo accesso alle pagine "
                "della segreteria dovrà configurare di nuovo l'app di autenticazione.",
                "Secondo fattore azzerato per %(count)d utenti: al prossimo accesso alle pagine "
                "della segreteria dovranno configurare di nuovo l'app di autenticazione.",
                len(users),
            )
            % {"count": len(users)},
            messages.SUCCESS,
        )


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "inactive_days", "updated_at")

    def has_add_permission(self, request) -> bool:
        return not RetentionPolicy.objects.exists()  # one policy for the whole portal
