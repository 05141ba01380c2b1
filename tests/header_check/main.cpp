// Links the per-header translation units and the two umbrella translation units: if
// any header defined a non-inline function or variable, this would fail to link.
int umbrella_a();
int umbrella_b();
int main() { return umbrella_a() + umbrella_b() == 2 ? 0 : 1; }
