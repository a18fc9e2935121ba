"""Users, workspace memberships, departments, roles and permissions; login and admin pages."""
