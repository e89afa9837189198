/* placeholder: replaced by the foundation work (argument parsing and dispatch) */
int main(void) { return 2; }
