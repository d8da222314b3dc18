"""The admin pages (管理): what staff change in the browser instead of the site file.

Kept light on purpose (no imports): each part's page module imports the kit below, and
``server/web/admin/routes.py`` gathers the parts' routers for ``server/web/pages.py``, so no part
imports another through this package.

The kit, for every admin page:

- ``server/web/admin/forms.py``: ``WebAdmin`` (the role guard), ``AdminForm`` (what was
  typed, the errors beside each field, the optimistic version check) and ``bump`` (the
  version, raised only if nobody else raised it first);
- ``server/web/templates/admin/_form.html``: the field macros (label, input with what was typed,
  the error beside it, the stale-edit notice), imported ``with context``;
- ``server/web/admin/sections.py``: the sections the 管理 page (``/admin``) lists; a part adds
  its own with one line;
- ``server/web/static/admin.css``: the pages' extra styles.

A part's page (see ``server/web/admin/people.py`` for a full one)::

    router = APIRouter(route_class=WebRoute)

    @router.post("/admin/tanks/{tank_id}")
    def save(request: Request, db: SessionDep, now: NowDep, user: WebAdmin,
             _csrf: CsrfChecked, tank_id: int, version: Annotated[str, Form()] = "", ...):
        form = AdminForm.of(version=version, name=name, capacity_l=capacity_l)
        ...check fields: form.refuse("capacity_l", N_("请填写容量（升）"))...
        tank = ...
        form.check_version(tank.version, saved={"name": tank.name, ...})
        if not form.ok:
            return render(request, "admin/tank.html", {"form": form, ...}, status=409 or 422)
        before = audit.snapshot(tank, "name", "capacity_l")
        ...change tank...; bump(db, tank)
        audit.record(db, actor=user, action="tank.edit", subject=("tank", tank.id),
                     before=before, after=audit.snapshot(tank, "name", "capacity_l"), now=now)
        db.commit()
"""
