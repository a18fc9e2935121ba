"""通用申请: the general request, a real document type the kernel ships and any workspace uses."""
