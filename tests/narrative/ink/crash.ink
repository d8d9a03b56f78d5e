VAR zero = 0
Divide?
* [Divide] -> divide
* [Do not] -> END
== divide ==
The answer is {10 / zero}.
-> END
