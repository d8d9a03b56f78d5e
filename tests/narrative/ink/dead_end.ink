Left or right?
* [Left] -> left
* [Right] -> right
== left ==
The left corridor ends in a wall.
== right ==
The right corridor leads out.
-> END
