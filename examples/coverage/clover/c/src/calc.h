int add(int a, int b);
int divide(int a, int b);
int clamp(int x, int lo, int hi);
int sum(int n);
