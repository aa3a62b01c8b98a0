with Ada.Text_IO;      use Ada.Text_IO;
with Ada.Command_Line; use Ada.Command_Line;
with Stats;            use Stats;

--  Tests for Stats; run with `make test`.
procedure Test_Stats is
   Failures : Natural := 0;

   procedure Expect (What : String; Got, Want : Integer) is
   begin
      if Got /= Want then
         Put_Line ("FAIL " & What & " =" & Integer'Image (Got)
                   & ", want" & Integer'Image (Want));
         Failures := Failures + 1;
      end if;
   end Expect;

   Empty : constant Int_Array (1 .. 0) := (others => 0);
begin
   Expect ("Sum (1, 2, 3)", Sum ((1, 2, 3)), 6);
   Expect ("Sum (empty)", Sum (Empty), 0);
   Expect ("Max (4, 9, 2)", Max ((4, 9, 2)), 9);
   if Failures > 0 then
      Set_Exit_Status (Failure);
   else
      Put_Line ("all tests passed");
   end if;
end Test_Stats;
