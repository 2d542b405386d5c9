int add(int a, int b);
int divide(int a, int b);
